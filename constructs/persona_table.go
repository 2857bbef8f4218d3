package constructs

import (
	"fmt"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dynamodbtable"

	"github.com/personabackend/app/dynamo"
	"github.com/personabackend/app/topology"
)

// StreamView selects what a table stream carries; empty means no stream.
type StreamView string

// Stream views.
const (
	StreamKeysOnly        StreamView = "KEYS_ONLY"
	StreamNewImage        StreamView = "NEW_IMAGE"
	StreamOldImage        StreamView = "OLD_IMAGE"
	StreamNewAndOldImages StreamView = "NEW_AND_OLD_IMAGES"
)

// TableProps describes a DynamoDB table, shaped like SST's Dynamo component: the
// schema (fields, primary and global indexes, TTL) comes from the app's domain
// package, which its handlers and the dev mode read too.
type TableProps struct {
	// Name is the short name; the table is "<app>-<stage>-<Name>". Default: from the id.
	Name string
	// Schema is the table's key fields and indexes. Required.
	Schema dynamo.Table
	Stream StreamView
}

// PersonaTable is a DynamoDB table with on-demand billing and point-in-time recovery;
// on a protected stage it also has deletion protection and prevent_destroy.
type PersonaTable struct {
	topo  topology.Table
	table dynamodbtable.DynamodbTable
}

// NewPersonaTable declares a table with props.Schema.
func NewPersonaTable(stack *Stack, id string, props TableProps) (*PersonaTable, error) {
	if err := validateLinkName(id); err != nil {
		return nil, fmt.Errorf("table %s: %w", id, err)
	}
	if len(props.Schema.Fields) == 0 {
		return nil, fmt.Errorf("table %s: props.Schema is required: its key Fields, PrimaryIndex and GlobalIndexes, as the app's domain package declares them", id)
	}
	if err := props.Schema.Validate(); err != nil {
		return nil, fmt.Errorf("table %s: %w", id, err)
	}
	switch props.Stream {
	case "", StreamKeysOnly, StreamNewImage, StreamOldImage, StreamNewAndOldImages:
	default:
		return nil, fmt.Errorf("table %s: stream %q: use KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES", id, props.Stream)
	}
	schema := props.Schema
	name := stack.ResourceName(firstNonEmpty(props.Name, kebab(id)))

	var attributes []*dynamodbtable.DynamodbTableAttribute
	for _, field := range schema.FieldNames() {
		typ, _ := schema.Fields[field].AttributeType()
		attributes = append(attributes, &dynamodbtable.DynamodbTableAttribute{
			Name: jsii.String(field),
			Type: jsii.String(typ),
		})
	}
	var indexes []*dynamodbtable.DynamodbTableGlobalSecondaryIndex
	for _, indexName := range schema.IndexNames() {
		gi := schema.GlobalIndexes[indexName]
		idx := &dynamodbtable.DynamodbTableGlobalSecondaryIndex{
			Name:           jsii.String(indexName),
			HashKey:        jsii.String(gi.HashKey),
			ProjectionType: jsii.String(gi.Projection.Type()),
		}
		if gi.RangeKey != "" {
			idx.RangeKey = jsii.String(gi.RangeKey)
		}
		if len(gi.Projection.Include) > 0 {
			idx.NonKeyAttributes = jsii.Strings(gi.Projection.Include...)
		}
		indexes = append(indexes, idx)
	}
	config := &dynamodbtable.DynamodbTableConfig{
		Name:                      jsii.String(name),
		BillingMode:               jsii.String("PAY_PER_REQUEST"),
		HashKey:                   jsii.String(schema.PrimaryIndex.HashKey),
		Attribute:                 attributes,
		PointInTimeRecovery:       &dynamodbtable.DynamodbTablePointInTimeRecovery{Enabled: jsii.Bool(true)},
		DeletionProtectionEnabled: jsii.Bool(stack.stage.Protected),
		Lifecycle:                 stack.lifecycle(),
	}
	if schema.PrimaryIndex.RangeKey != "" {
		config.RangeKey = jsii.String(schema.PrimaryIndex.RangeKey)
	}
	if len(indexes) > 0 {
		config.GlobalSecondaryIndex = indexes
	}
	if schema.TTL != "" {
		config.Ttl = &dynamodbtable.DynamodbTableTtl{AttributeName: jsii.String(schema.TTL), Enabled: jsii.Bool(true)}
	}
	if props.Stream != "" {
		config.StreamEnabled = jsii.Bool(true)
		config.StreamViewType = jsii.String(string(props.Stream))
	}
	table := dynamodbtable.NewDynamodbTable(stack.scope(id), jsii.String("table"), config)

	topo := topology.Table{LinkName: id, Name: name, Schema: schema}
	stack.topo.Tables = append(stack.topo.Tables, topo)
	return &PersonaTable{topo: topo, table: table}, nil
}

// LinkName is the table's name for handlers (resource.GetTable).
func (t *PersonaTable) LinkName() string { return t.topo.LinkName }

// Name is the table's name.
func (t *PersonaTable) Name() string { return t.topo.Name }

// Arn is the table's ARN.
func (t *PersonaTable) Arn() string { return *t.table.Arn() }

// Link grants a TableAccess, or a short form: read (GetItem, BatchGetItem and Query,
// on the table and each of its indexes), write (PutItem, UpdateItem, DeleteItem,
// BatchWriteItem) or read-write.
func (t *PersonaTable) Link(access Access) (LinkGrant, error) {
	indexes := t.topo.Schema.IndexNames()
	var exact TableAccess
	ok := true
	switch a := access.(type) {
	case TableAccess:
		exact = a
	case *TableAccess:
		if a == nil {
			return LinkGrant{}, fmt.Errorf("table %s: the TableAccess is a nil pointer: give one", t.topo.LinkName)
		}
		exact = *a
	case Level:
		exact, ok = levelAccess(a, indexes)
	default:
		ok = false
	}
	if !ok {
		return LinkGrant{}, unsupportedAccess("table", t.topo.LinkName, access, string(Read), string(Write), string(ReadWrite), "a TableAccess")
	}
	if err := exact.validate(indexes); err != nil {
		return LinkGrant{}, fmt.Errorf("table %s: %w", t.topo.LinkName, err)
	}
	arn := ARN{Expr: t.Arn(), Service: "dynamodb", Resource: "table/" + t.topo.Name}
	return LinkGrant{
		Properties: t.topo.LinkProperties(arn.Expr),
		Statements: exact.statements(arn),
	}, nil
}
