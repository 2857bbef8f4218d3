package constructs

import (
	"fmt"
	"sort"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dynamodbtable"

	"github.com/personabackend/app/topology"
)

// FieldType is the type of a key attribute.
type FieldType string

// Field types, as SST's Dynamo names them.
const (
	String FieldType = "string"
	Number FieldType = "number"
	Binary FieldType = "binary"
)

var dynamoTypes = map[FieldType]string{String: "S", Number: "N", Binary: "B"}

// Projection chooses which attributes a global index copies.
type Projection struct {
	// KeysOnly copies just the keys; Include copies the keys and these attributes;
	// the zero value copies all attributes.
	KeysOnly bool
	Include  []string
}

// Index is a table's primary index.
type Index struct {
	HashKey  string
	RangeKey string
}

// GlobalIndex is a global secondary index.
type GlobalIndex struct {
	HashKey    string
	RangeKey   string
	Projection Projection
}

// StreamView selects what a table stream carries; empty means no stream.
type StreamView string

// Stream views.
const (
	StreamKeysOnly        StreamView = "KEYS_ONLY"
	StreamNewImage        StreamView = "NEW_IMAGE"
	StreamOldImage        StreamView = "OLD_IMAGE"
	StreamNewAndOldImages StreamView = "NEW_AND_OLD_IMAGES"
)

// TableProps describes a DynamoDB table, shaped like SST's Dynamo component.
// Fields lists the key attributes only: DynamoDB is schemaless for the rest.
type TableProps struct {
	// Name is the short name; the table is "<app>-<stage>-<Name>". Default: from the id.
	Name          string
	Fields        map[string]FieldType
	PrimaryIndex  Index
	GlobalIndexes map[string]GlobalIndex
	// TTL names the attribute holding each item's expiry time, if any.
	TTL    string
	Stream StreamView
}

// PersonaTableDefaults is the persona table: personas by id, by owner (newest
// first through createdAt) and by status.
func PersonaTableDefaults() TableProps {
	return TableProps{
		Name: "persona",
		Fields: map[string]FieldType{
			"personaId":     String,
			"userId":        String,
			"personaStatus": String,
			"createdAt":     String,
		},
		PrimaryIndex: Index{HashKey: "personaId"},
		GlobalIndexes: map[string]GlobalIndex{
			"UserIdIndex": {HashKey: "userId", RangeKey: "createdAt"},
			"StatusIndex": {HashKey: "personaStatus"},
		},
	}
}

// PersonaTable is a DynamoDB table with on-demand billing and point-in-time recovery;
// on a protected stage it also has deletion protection and prevent_destroy.
type PersonaTable struct {
	topo  topology.Table
	table dynamodbtable.DynamodbTable
}

// NewPersonaTable declares a table. Props with nothing but a Name give PersonaTableDefaults.
func NewPersonaTable(stack *Stack, id string, props TableProps) (*PersonaTable, error) {
	if props.Fields == nil {
		if props.PrimaryIndex != (Index{}) || props.GlobalIndexes != nil || props.TTL != "" || props.Stream != "" {
			return nil, fmt.Errorf("table %s: give Fields with its keys, or leave all but Name empty for the persona table's defaults", id)
		}
		defaults := PersonaTableDefaults()
		defaults.Name = firstNonEmpty(props.Name, defaults.Name)
		props = defaults
	}
	if err := validateLinkName(id); err != nil {
		return nil, fmt.Errorf("table %s: %w", id, err)
	}
	if err := props.validate(); err != nil {
		return nil, fmt.Errorf("table %s: %w", id, err)
	}
	name := stack.ResourceName(firstNonEmpty(props.Name, kebab(id)))

	var attributes []*dynamodbtable.DynamodbTableAttribute
	for _, field := range sortedKeys(props.Fields) {
		attributes = append(attributes, &dynamodbtable.DynamodbTableAttribute{
			Name: jsii.String(field),
			Type: jsii.String(dynamoTypes[props.Fields[field]]),
		})
	}
	var indexes []*dynamodbtable.DynamodbTableGlobalSecondaryIndex
	var topoIndexes []topology.Index
	for _, indexName := range sortedKeys(props.GlobalIndexes) {
		gi := props.GlobalIndexes[indexName]
		projection, nonKey := "ALL", gi.Projection.Include
		switch {
		case gi.Projection.KeysOnly:
			projection = "KEYS_ONLY"
		case len(nonKey) > 0:
			projection = "INCLUDE"
		}
		idx := &dynamodbtable.DynamodbTableGlobalSecondaryIndex{
			Name:           jsii.String(indexName),
			HashKey:        jsii.String(gi.HashKey),
			ProjectionType: jsii.String(projection),
		}
		if gi.RangeKey != "" {
			idx.RangeKey = jsii.String(gi.RangeKey)
		}
		if len(nonKey) > 0 {
			idx.NonKeyAttributes = jsii.Strings(nonKey...)
		}
		indexes = append(indexes, idx)
		topoIndexes = append(topoIndexes, topology.Index{
			Name: indexName, HashKey: gi.HashKey, RangeKey: gi.RangeKey,
			Projection: projection, NonKeyAttributes: nonKey,
		})
	}
	config := &dynamodbtable.DynamodbTableConfig{
		Name:                      jsii.String(name),
		BillingMode:               jsii.String("PAY_PER_REQUEST"),
		HashKey:                   jsii.String(props.PrimaryIndex.HashKey),
		Attribute:                 attributes,
		PointInTimeRecovery:       &dynamodbtable.DynamodbTablePointInTimeRecovery{Enabled: jsii.Bool(true)},
		DeletionProtectionEnabled: jsii.Bool(stack.stage.Protected),
		Lifecycle:                 stack.lifecycle(),
	}
	if props.PrimaryIndex.RangeKey != "" {
		config.RangeKey = jsii.String(props.PrimaryIndex.RangeKey)
	}
	if len(indexes) > 0 {
		config.GlobalSecondaryIndex = indexes
	}
	if props.TTL != "" {
		config.Ttl = &dynamodbtable.DynamodbTableTtl{AttributeName: jsii.String(props.TTL), Enabled: jsii.Bool(true)}
	}
	if props.Stream != "" {
		config.StreamEnabled = jsii.Bool(true)
		config.StreamViewType = jsii.String(string(props.Stream))
	}
	table := dynamodbtable.NewDynamodbTable(stack.scope(id), jsii.String("table"), config)

	fields := map[string]string{}
	for f, t := range props.Fields {
		fields[f] = string(t)
	}
	topo := topology.Table{
		LinkName: id, Name: name, Fields: fields,
		HashKey: props.PrimaryIndex.HashKey, RangeKey: props.PrimaryIndex.RangeKey,
		GlobalIndexes: topoIndexes, TTLAttribute: props.TTL,
	}
	stack.topo.Tables = append(stack.topo.Tables, topo)
	return &PersonaTable{topo: topo, table: table}, nil
}

func (p TableProps) validate() error {
	for field, t := range p.Fields {
		if _, ok := dynamoTypes[t]; !ok {
			return fmt.Errorf("field %q has type %q: use string, number or binary", field, t)
		}
	}
	used := map[string]bool{}
	key := func(role, field string, required bool) error {
		if field == "" {
			if required {
				return fmt.Errorf("%s is required", role)
			}
			return nil
		}
		if _, ok := p.Fields[field]; !ok {
			return fmt.Errorf("%s %q is not one of Fields: declare it there", role, field)
		}
		used[field] = true
		return nil
	}
	if err := key("primary index hash key", p.PrimaryIndex.HashKey, true); err != nil {
		return err
	}
	if err := key("primary index range key", p.PrimaryIndex.RangeKey, false); err != nil {
		return err
	}
	for _, name := range sortedKeys(p.GlobalIndexes) {
		gi := p.GlobalIndexes[name]
		if err := key("index "+name+" hash key", gi.HashKey, true); err != nil {
			return err
		}
		if err := key("index "+name+" range key", gi.RangeKey, false); err != nil {
			return err
		}
		if gi.Projection.KeysOnly && len(gi.Projection.Include) > 0 {
			return fmt.Errorf("index %s: choose KeysOnly or Include, not both", name)
		}
	}
	var unused []string
	for field := range p.Fields {
		if !used[field] {
			unused = append(unused, field)
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		return fmt.Errorf("fields %v are not a key of the table or of an index: list only key attributes in Fields (DynamoDB stores other attributes without declaring them)", unused)
	}
	switch p.Stream {
	case "", StreamKeysOnly, StreamNewImage, StreamOldImage, StreamNewAndOldImages:
	default:
		return fmt.Errorf("stream %q: use KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES", p.Stream)
	}
	return nil
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
	var indexes []string
	for _, index := range t.topo.GlobalIndexes {
		indexes = append(indexes, index.Name)
	}
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
	arn := t.Arn()
	return LinkGrant{
		Properties: t.topo.LinkProperties(arn),
		Statements: exact.statements(arn),
	}, nil
}
