package persona

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/personabackend/app/dynamo"
)

// Persona's dynamodbav tags and the table schema name the same attributes: a stored
// persona in flight carries every key attribute the schema declares, with the declared
// type, and one that ended carries all but inFlightSince, which keeps it out of
// StatusIndex.
func TestAStoredPersonaCarriesEveryKeyTheTableSchemaDeclares(t *testing.T) {
	schema := TableSchema()
	if err := schema.Validate(); err != nil {
		t.Fatal(err)
	}
	item, err := attributevalue.MarshalMap(samplePersona("p1", "user-a", StatusRequested, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	ended, err := attributevalue.MarshalMap(samplePersona("p2", "user-a", StatusReady, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range schema.FieldNames() {
		if _, ok := ended[field]; ok == (field == AttrInFlightSince) {
			t.Errorf("a ready persona has attribute %q: %v; only %s may be missing", field, ok, AttrInFlightSince)
		}
		v, ok := item[field]
		if !ok {
			t.Errorf("a stored persona has no attribute %q, which the schema declares as a key", field)
			continue
		}
		var typeOK bool
		switch schema.Fields[field] {
		case dynamo.String:
			_, typeOK = v.(*types.AttributeValueMemberS)
		case dynamo.Number:
			_, typeOK = v.(*types.AttributeValueMemberN)
		case dynamo.Binary:
			_, typeOK = v.(*types.AttributeValueMemberB)
		}
		if !typeOK {
			t.Errorf("attribute %q is stored as %T, the schema declares %s", field, v, schema.Fields[field])
		}
	}
}
