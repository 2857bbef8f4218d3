// Command indexed queries an index and reads a SecureString parameter.
package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/personabackend/app/internal/awscalls/testdata/shared"
)

func main() {
	ctx := context.Background()
	_ = shared.NewStore(dynamodb.NewFromConfig(aws.Config{})).ByOwner(ctx, "ada")
	_, _ = ssm.NewFromConfig(aws.Config{}).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/key"), WithDecryption: aws.Bool(true)})
}
