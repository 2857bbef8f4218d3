package dynamo

import (
	"strings"
	"testing"
)

func TestValidateRefusesSchemasDynamoDBWouldRefuse(t *testing.T) {
	tests := []struct {
		name   string
		schema Table
		want   string
	}{
		{"no fields at all", Table{}, "the schema has no Fields"},
		{"a hash key that is not a field", Table{Fields: map[string]FieldType{"id": String}, PrimaryIndex: Index{HashKey: "pk"}}, `primary index hash key "pk" is not one of Fields`},
		{"no hash key", Table{Fields: map[string]FieldType{"id": String}}, "primary index hash key is required"},
		{"a field no index uses", Table{Fields: map[string]FieldType{"id": String, "name": String}, PrimaryIndex: Index{HashKey: "id"}}, "fields [name] are not a key"},
		{"an unknown field type", Table{Fields: map[string]FieldType{"id": "text"}, PrimaryIndex: Index{HashKey: "id"}}, `type "text": use string, number or binary`},
		{"an index range key that is not a field", Table{
			Fields: map[string]FieldType{"id": String, "owner": String}, PrimaryIndex: Index{HashKey: "id"},
			GlobalIndexes: map[string]GlobalIndex{"ByOwner": {HashKey: "owner", RangeKey: "at"}},
		}, `index ByOwner range key "at" is not one of Fields`},
		{"both projections", Table{
			Fields: map[string]FieldType{"id": String, "owner": String}, PrimaryIndex: Index{HashKey: "id"},
			GlobalIndexes: map[string]GlobalIndex{"ByOwner": {HashKey: "owner", Projection: Projection{KeysOnly: true, Include: []string{"x"}}}},
		}, "choose KeysOnly or Include"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.schema.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestAValidSchemaPasses(t *testing.T) {
	schema := Table{
		Fields:        map[string]FieldType{"id": String, "owner": String, "at": Number},
		PrimaryIndex:  Index{HashKey: "id"},
		GlobalIndexes: map[string]GlobalIndex{"ByOwner": {HashKey: "owner", RangeKey: "at", Projection: Projection{Include: []string{"name"}}}},
		TTL:           "expiresAt",
	}
	if err := schema.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := schema.GlobalIndexes["ByOwner"].Projection.Type(); got != "INCLUDE" {
		t.Errorf("projection = %s, want INCLUDE", got)
	}
}
