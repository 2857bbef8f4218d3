// Command writer puts through the store and deletes on the client itself.
package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/personabackend/app/internal/awscalls/testdata/shared"
)

func main() {
	ctx := context.Background()
	client := dynamodb.NewFromConfig(aws.Config{})
	_ = shared.NewStore(client).Put(ctx, "k")
	_, _ = client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("items")})
}
