package localaws

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/personabackend/app/dynamo"
)

// TableCreator is the part of the DynamoDB client CreateTable uses.
type TableCreator interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// CreateTable creates the table named name with schema's keys and global indexes, and
// waits until it is ACTIVE. A table of that name that exists already is left as it
// is, so data kept on disk from an earlier run survives.
func CreateTable(ctx context.Context, db TableCreator, name string, schema dynamo.Table) error {
	if err := schema.Validate(); err != nil {
		return fmt.Errorf("table %s: %w", name, err)
	}
	_, err := db.CreateTable(ctx, createTableInput(name, schema))
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("creating table %s: %w", name, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 10 * time.Millisecond
		o.MaxDelay = 200 * time.Millisecond
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 2*time.Minute); err != nil {
		return fmt.Errorf("waiting for table %s: %w", name, err)
	}
	return nil
}

// createTableInput declares exactly the key attributes: Validate has checked that
// every field is a key, as DynamoDB requires.
func createTableInput(name string, schema dynamo.Table) *dynamodb.CreateTableInput {
	key := func(hash, rng string) []types.KeySchemaElement {
		ks := []types.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash}}
		if rng != "" {
			ks = append(ks, types.KeySchemaElement{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange})
		}
		return ks
	}
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema:   key(schema.PrimaryIndex.HashKey, schema.PrimaryIndex.RangeKey),
	}
	for _, field := range schema.FieldNames() {
		typ, _ := schema.Fields[field].AttributeType()
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(field), AttributeType: types.ScalarAttributeType(typ),
		})
	}
	for _, indexName := range schema.IndexNames() {
		gi := schema.GlobalIndexes[indexName]
		proj := &types.Projection{ProjectionType: types.ProjectionType(gi.Projection.Type())}
		if len(gi.Projection.Include) > 0 {
			proj.NonKeyAttributes = gi.Projection.Include
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName:  aws.String(indexName),
			KeySchema:  key(gi.HashKey, gi.RangeKey),
			Projection: proj,
		})
	}
	return in
}
