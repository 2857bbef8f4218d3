package localaws

import (
	"context"
	"errors"
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

// CreateTable creates the table t describes, with its global indexes, and waits until
// it is ACTIVE. A table of that name that exists already is left as it is, so data
// kept on disk from an earlier run survives.
func CreateTable(ctx context.Context, db TableCreator, t topology.Table) error {
	in, err := createTableInput(t)
	if err != nil {
		return err
	}
	_, err = db.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("creating table %s: %w", t.Name, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 10 * time.Millisecond
		o.MaxDelay = 200 * time.Millisecond
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(t.Name)}, 30*time.Second); err != nil {
		return fmt.Errorf("waiting for table %s: %w", t.Name, err)
	}
	return nil
}

func createTableInput(t topology.Table) (*dynamodb.CreateTableInput, error) {
	used := map[string]bool{}
	key := func(hash, rng string) []types.KeySchemaElement {
		used[hash] = true
		ks := []types.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash}}
		if rng != "" {
			used[rng] = true
			ks = append(ks, types.KeySchemaElement{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange})
		}
		return ks
	}
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(t.Name),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema:   key(t.HashKey, t.RangeKey),
	}
	for _, ix := range t.GlobalIndexes {
		proj := &types.Projection{ProjectionType: types.ProjectionType(ix.Projection)}
		if ix.Projection == string(types.ProjectionTypeInclude) {
			proj.NonKeyAttributes = ix.NonKeyAttributes
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName:  aws.String(ix.Name),
			KeySchema:  key(ix.HashKey, ix.RangeKey),
			Projection: proj,
		})
	}
	// DynamoDB refuses attribute definitions that no key uses.
	names := make([]string, 0, len(used))
	for name := range used {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		typ, ok := attributeTypes[t.Fields[name]]
		if !ok {
			return nil, fmt.Errorf("table %s: key attribute %s has type %q; want string, number or binary", t.Name, name, t.Fields[name])
		}
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: typ})
	}
	return in, nil
}
