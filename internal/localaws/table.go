package localaws

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/personabackend/app/topology"
)

// TableCreator is the part of the DynamoDB client CreateTable uses.
type TableCreator interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

var attributeTypes = map[string]types.ScalarAttributeType{
	"string": types.ScalarAttributeTypeS,
	"number": types.ScalarAttributeTypeN,
	"binary": types.ScalarAttributeTypeB,
}

// CreateTable creates the table t describes, with its global indexes, and waits until it is ACTIVE.
func CreateTable(ctx context.Context, db TableCreator, t topology.Table) error {
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(t.Name),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema:   keySchema(t.HashKey, t.RangeKey),
	}
	fields := make([]string, 0, len(t.Fields))
	for f := range t.Fields {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		typ, ok := attributeTypes[t.Fields[f]]
		if !ok {
			return fmt.Errorf("table %s: field %s has type %q; want string, number or binary", t.Name, f, t.Fields[f])
		}
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(f), AttributeType: typ})
	}
	for _, ix := range t.GlobalIndexes {
		proj := &types.Projection{ProjectionType: types.ProjectionType(ix.Projection)}
		if len(ix.NonKeyAttributes) > 0 {
			proj.NonKeyAttributes = ix.NonKeyAttributes
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName:  aws.String(ix.Name),
			KeySchema:  keySchema(ix.HashKey, ix.RangeKey),
			Projection: proj,
		})
	}
	if _, err := db.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("creating table %s: %w", t.Name, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 10 * time.Millisecond })
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(t.Name)}, 30*time.Second); err != nil {
		return fmt.Errorf("waiting for table %s: %w", t.Name, err)
	}
	return nil
}

func keySchema(hash, rng string) []types.KeySchemaElement {
	ks := []types.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash}}
	if rng != "" {
		ks = append(ks, types.KeySchemaElement{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange})
	}
	return ks
}
