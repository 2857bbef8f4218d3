// Command paginated hands its client to a paginator, which calls Scan itself.
package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func main() {
	pages := dynamodb.NewScanPaginator(dynamodb.NewFromConfig(aws.Config{}), &dynamodb.ScanInput{TableName: aws.String("items")})
	for pages.HasMorePages() {
		_, _ = pages.NextPage(context.Background())
	}
}
