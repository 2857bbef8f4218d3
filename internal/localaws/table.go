package localaws

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
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
// is, so data kept on disk from an earlier run survives, if it has the schema's keys
// and indexes; if not, CreateTable answers a *SchemaMismatchError.
func CreateTable(ctx context.Context, db TableCreator, name string, schema dynamo.Table) error {
	if err := schema.Validate(); err != nil {
		return fmt.Errorf("table %s: %w", name, err)
	}
	want := createTableInput(name, schema)
	_, err := db.CreateTable(ctx, want)
	var inUse *types.ResourceInUseException
	existed := errors.As(err, &inUse)
	if err != nil && !existed {
		return fmt.Errorf("creating table %s: %w", name, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 10 * time.Millisecond
		o.MaxDelay = 200 * time.Millisecond
	})
	out, err := waiter.WaitForOutput(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 2*time.Minute)
	if err != nil {
		return fmt.Errorf("waiting for table %s: %w", name, err)
	}
	if !existed {
		return nil
	}
	if diff := schemaDiff(declaredShape(want), describedShape(out.Table)); len(diff) > 0 {
		return &SchemaMismatchError{Table: name, Differences: diff}
	}
	return nil
}

// SchemaMismatchError says that a table which exists already (kept from an earlier run)
// has other keys or global indexes than its schema declares: writes meant for the
// declared ones would fail against it.
type SchemaMismatchError struct {
	Table string
	// Differences say, one by one, what the schema declares and what the table has.
	Differences []string
}

func (e *SchemaMismatchError) Error() string {
	return fmt.Sprintf("table %s has another schema than it is declared with: %s", e.Table, strings.Join(e.Differences, "; "))
}

// tableShape is what of a table must match its schema: its primary key and each
// global index (keys and projection), written out to compare and to show.
type tableShape struct {
	key     string
	indexes map[string]string
}

func declaredShape(in *dynamodb.CreateTableInput) tableShape {
	attrTypes := attributeTypes(in.AttributeDefinitions)
	shape := tableShape{key: keyText(in.KeySchema, attrTypes), indexes: map[string]string{}}
	for _, gi := range in.GlobalSecondaryIndexes {
		shape.indexes[aws.ToString(gi.IndexName)] = indexText(gi.KeySchema, gi.Projection, attrTypes)
	}
	return shape
}

func describedShape(t *types.TableDescription) tableShape {
	attrTypes := attributeTypes(t.AttributeDefinitions)
	shape := tableShape{key: keyText(t.KeySchema, attrTypes), indexes: map[string]string{}}
	for _, gi := range t.GlobalSecondaryIndexes {
		shape.indexes[aws.ToString(gi.IndexName)] = indexText(gi.KeySchema, gi.Projection, attrTypes)
	}
	return shape
}

func attributeTypes(defs []types.AttributeDefinition) map[string]string {
	out := map[string]string{}
	for _, d := range defs {
		out[aws.ToString(d.AttributeName)] = string(d.AttributeType)
	}
	return out
}

// keyText is a key schema as "hash id (S), range at (N)".
func keyText(key []types.KeySchemaElement, attrTypes map[string]string) string {
	parts := make([]string, 0, len(key))
	for _, k := range key {
		role := "hash"
		if k.KeyType == types.KeyTypeRange {
			role = "range"
		}
		name := aws.ToString(k.AttributeName)
		parts = append(parts, fmt.Sprintf("%s %s (%s)", role, name, attrTypes[name]))
	}
	slices.Sort(parts) // "hash" before "range"
	return strings.Join(parts, ", ")
}

// indexText is a global index's keys and projection.
func indexText(key []types.KeySchemaElement, p *types.Projection, attrTypes map[string]string) string {
	projection := "ALL"
	if p != nil && p.ProjectionType != "" {
		projection = string(p.ProjectionType)
		if len(p.NonKeyAttributes) > 0 {
			projection += " " + strings.Join(slices.Sorted(slices.Values(p.NonKeyAttributes)), ", ")
		}
	}
	return keyText(key, attrTypes) + ", projecting " + projection
}

// schemaDiff lists how the table differs from what is declared, in a fixed order.
func schemaDiff(declared, table tableShape) []string {
	var diff []string
	if declared.key != table.key {
		diff = append(diff, fmt.Sprintf("its primary key is declared %s but is %s", declared.key, table.key))
	}
	names := slices.Sorted(maps.Keys(declared.indexes))
	for _, name := range names {
		got, ok := table.indexes[name]
		switch {
		case !ok:
			diff = append(diff, fmt.Sprintf("index %s (%s) is declared but missing", name, declared.indexes[name]))
		case got != declared.indexes[name]:
			diff = append(diff, fmt.Sprintf("index %s is declared %s but is %s", name, declared.indexes[name], got))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(table.indexes)) {
		if _, ok := declared.indexes[name]; !ok {
			diff = append(diff, fmt.Sprintf("index %s (%s) is no longer declared", name, table.indexes[name]))
		}
	}
	return diff
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
