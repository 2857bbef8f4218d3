// Command dynamicindex queries an index named at run time.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func main() {
	_, _ = dynamodb.NewFromConfig(aws.Config{}).Query(context.Background(), &dynamodb.QueryInput{
		TableName: aws.String("items"),
		IndexName: aws.String(os.Getenv("INDEX")),
	})
}
