// Package dynamo describes DynamoDB tables in plain Go, shaped as SST's Dynamo component
// takes them: the key fields, the primary index and the global indexes.
//
// A domain package declares its tables with it once; the constructs deploy them, and
// the dev mode and the tests create them locally, from that one description.
package dynamo

import (
	"fmt"
	"maps"
	"slices"
)

// FieldType is the type of a key attribute.
type FieldType string

// Field types, as SST's Dynamo names them.
const (
	String FieldType = "string"
	Number FieldType = "number"
	Binary FieldType = "binary"
)

// AttributeType is the type's letter in DynamoDB's API and in Terraform: S, N or B.
func (t FieldType) AttributeType() (string, bool) {
	switch t {
	case String:
		return "S", true
	case Number:
		return "N", true
	case Binary:
		return "B", true
	}
	return "", false
}

// Index is a table's primary index.
type Index struct {
	HashKey  string `json:"hashKey"`
	RangeKey string `json:"rangeKey,omitempty"`
}

// GlobalIndex is a global secondary index.
type GlobalIndex struct {
	HashKey    string     `json:"hashKey"`
	RangeKey   string     `json:"rangeKey,omitempty"`
	Projection Projection `json:"projection"`
}

// Projection chooses which attributes a global index copies.
type Projection struct {
	// KeysOnly copies just the keys; Include copies the keys and these attributes;
	// the zero value copies all attributes.
	KeysOnly bool     `json:"keysOnly,omitempty"`
	Include  []string `json:"include,omitempty"`
}

// Type is the projection as DynamoDB names it: ALL, KEYS_ONLY or INCLUDE.
func (p Projection) Type() string {
	switch {
	case p.KeysOnly:
		return "KEYS_ONLY"
	case len(p.Include) > 0:
		return "INCLUDE"
	}
	return "ALL"
}

// Table is a table's schema. Fields lists the key attributes only: DynamoDB is
// schemaless for the rest.
type Table struct {
	Fields        map[string]FieldType   `json:"fields"`
	PrimaryIndex  Index                  `json:"primaryIndex"`
	GlobalIndexes map[string]GlobalIndex `json:"globalIndexes,omitempty"`
	// TTL names the attribute holding each item's expiry time, if any.
	TTL string `json:"ttl,omitempty"`
}

// FieldNames returns the key attributes' names in order.
func (t Table) FieldNames() []string { return slices.Sorted(maps.Keys(t.Fields)) }

// IndexNames returns the global indexes' names in order.
func (t Table) IndexNames() []string { return slices.Sorted(maps.Keys(t.GlobalIndexes)) }

// Validate reports the first thing in t that DynamoDB would refuse.
func (t Table) Validate() error {
	if len(t.Fields) == 0 {
		return fmt.Errorf("the schema has no Fields: declare the key attributes and the PrimaryIndex")
	}
	for _, field := range t.FieldNames() {
		if _, ok := t.Fields[field].AttributeType(); !ok {
			return fmt.Errorf("field %q has type %q: use string, number or binary", field, t.Fields[field])
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
		if _, ok := t.Fields[field]; !ok {
			return fmt.Errorf("%s %q is not one of Fields: declare it there", role, field)
		}
		used[field] = true
		return nil
	}
	if err := key("primary index hash key", t.PrimaryIndex.HashKey, true); err != nil {
		return err
	}
	if err := key("primary index range key", t.PrimaryIndex.RangeKey, false); err != nil {
		return err
	}
	for _, name := range t.IndexNames() {
		gi := t.GlobalIndexes[name]
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
	for _, field := range t.FieldNames() {
		if !used[field] {
			unused = append(unused, field)
		}
	}
	if len(unused) > 0 {
		return fmt.Errorf("fields %v are not a key of the table or of an index: list only key attributes in Fields (DynamoDB stores other attributes without declaring them)", unused)
	}
	return nil
}
