// Command readonly is linked to the persona table with read access and tries to write
// to it: the dev tests check that the local DynamoDB denies the write as AWS would.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/personabackend/app/persona"
	"github.com/personabackend/app/resource"
)

func main() {
	table, err := resource.GetTable(persona.TableLink)
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	lambda.Start(func(ctx context.Context, _ events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(table.Name),
			Item:      map[string]types.AttributeValue{"personaId": &types.AttributeValueMemberS{Value: "written-by-readonly"}},
		})
		if err != nil {
			return events.APIGatewayV2HTTPResponse{StatusCode: 500, Body: err.Error()}, nil
		}
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "written"}, nil
	})
}
