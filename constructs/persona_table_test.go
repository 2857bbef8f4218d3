package constructs

import (
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

func TestPersonaTableIsOnDemandWithPointInTimeRecoveryOnEveryStage(t *testing.T) {
	for _, stage := range []string{"dev", "prod"} {
		s := stackFor(t, stage)
		s.hasResource(t, "aws_dynamodb_table", map[string]any{
			"name":                   testApp + "-" + stage + "-orders",
			"billing_mode":           "PAY_PER_REQUEST",
			"hash_key":               "orderId",
			"point_in_time_recovery": map[string]any{"enabled": true},
			"ttl":                    map[string]any{"attribute_name": "expiresAt", "enabled": true},
		})
	}
}

func TestPersonaTableIsProtectedOnlyOnProtectedStages(t *testing.T) {
	dev := stackFor(t, "dev").only(t, "aws_dynamodb_table", "name", "shop-dev-orders")
	if dev["deletion_protection_enabled"] != false || dev["lifecycle"] != nil {
		t.Errorf("dev table: deletion protection %v, lifecycle %v; want neither", dev["deletion_protection_enabled"], dev["lifecycle"])
	}
	prod := stackFor(t, "prod").only(t, "aws_dynamodb_table", "name", "shop-prod-orders")
	if prod["deletion_protection_enabled"] != true {
		t.Errorf("prod table: deletion_protection_enabled = %v, want true", prod["deletion_protection_enabled"])
	}
	if lc, _ := prod["lifecycle"].(map[string]any); lc["prevent_destroy"] != true {
		t.Errorf("prod table: lifecycle = %v, want prevent_destroy", prod["lifecycle"])
	}
}

func TestPersonaTableDeclaresKeyAttributesAndIndexes(t *testing.T) {
	table := stackFor(t, "dev").only(t, "aws_dynamodb_table", "name", "shop-dev-orders")
	var attrs []string
	for _, a := range table["attribute"].([]any) {
		m := a.(map[string]any)
		attrs = append(attrs, m["name"].(string)+":"+m["type"].(string))
	}
	if got, want := strings.Join(attrs, ","), "customerId:S,orderId:S,placedAt:N"; got != want {
		t.Errorf("attributes = %s, want %s", got, want)
	}
	gsi := table["global_secondary_index"].([]any)[0].(map[string]any)
	if gsi["name"] != "ByCustomer" || gsi["hash_key"] != "customerId" || gsi["range_key"] != "placedAt" || gsi["projection_type"] != "KEYS_ONLY" {
		t.Errorf("index = %v", gsi)
	}
}

func TestPersonaTableDefaultsAreThePersonaSchema(t *testing.T) {
	p := PersonaTableDefaults()
	if err := p.validate(); err != nil {
		t.Fatalf("defaults are invalid: %v", err)
	}
	if p.PrimaryIndex.HashKey != "personaId" {
		t.Errorf("hash key = %q, want personaId", p.PrimaryIndex.HashKey)
	}
	if gi := p.GlobalIndexes["UserIdIndex"]; gi.HashKey != "userId" || gi.RangeKey != "createdAt" {
		t.Errorf("UserIdIndex = %+v, want userId newest first by createdAt", gi)
	}
	if gi := p.GlobalIndexes["StatusIndex"]; gi.HashKey != "personaStatus" {
		t.Errorf("StatusIndex = %+v, want personaStatus", gi)
	}
}

func TestTablePropsRejectSchemasDynamoDBWouldRefuse(t *testing.T) {
	tests := []struct {
		name  string
		props TableProps
		want  string
	}{
		{"a hash key that is not a field", TableProps{Fields: map[string]FieldType{"id": String}, PrimaryIndex: Index{HashKey: "pk"}}, `primary index hash key "pk" is not one of Fields`},
		{"no hash key", TableProps{Fields: map[string]FieldType{"id": String}}, "primary index hash key is required"},
		{"a field no index uses", TableProps{Fields: map[string]FieldType{"id": String, "name": String}, PrimaryIndex: Index{HashKey: "id"}}, "fields [name] are not a key"},
		{"an unknown field type", TableProps{Fields: map[string]FieldType{"id": "text"}, PrimaryIndex: Index{HashKey: "id"}}, `type "text": use string, number or binary`},
		{"an index range key that is not a field", TableProps{
			Fields: map[string]FieldType{"id": String, "owner": String}, PrimaryIndex: Index{HashKey: "id"},
			GlobalIndexes: map[string]GlobalIndex{"ByOwner": {HashKey: "owner", RangeKey: "at"}},
		}, `index ByOwner range key "at" is not one of Fields`},
		{"both projections", TableProps{
			Fields: map[string]FieldType{"id": String, "owner": String}, PrimaryIndex: Index{HashKey: "id"},
			GlobalIndexes: map[string]GlobalIndex{"ByOwner": {HashKey: "owner", Projection: Projection{KeysOnly: true, Include: []string{"x"}}}},
		}, "choose KeysOnly or Include"},
		{"an unknown stream view", TableProps{Fields: map[string]FieldType{"id": String}, PrimaryIndex: Index{HashKey: "id"}, Stream: "ALL"}, `stream "ALL"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.props.validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestAPersonaTableAloneSynthesizesWithThePersonaSchema(t *testing.T) {
	stack := scratchStack(t)
	if _, err := NewPersonaTable(stack, "PersonaTable", TableProps{}); err != nil {
		t.Fatal(err)
	}
	synth := cdktf.Testing_Synth(stack.stack, jsii.Bool(false))
	props := map[string]any{
		"name":     "scratch-dev-persona",
		"hash_key": "personaId",
		"global_secondary_index": []any{
			map[string]any{"name": "StatusIndex", "hash_key": "personaStatus", "projection_type": "ALL"},
			map[string]any{"name": "UserIdIndex", "hash_key": "userId", "range_key": "createdAt", "projection_type": "ALL"},
		},
	}
	if !*cdktf.Testing_ToHaveResourceWithProperties(synth, jsii.String("aws_dynamodb_table"), &props) {
		t.Errorf("synthesized table lacks %v:\n%s", props, *synth)
	}
}

func TestPropsWithoutFieldsButWithKeysOrOptionsAreRefused(t *testing.T) {
	stack := scratchStack(t)
	for name, props := range map[string]TableProps{
		"a stream":     {Stream: StreamNewImage},
		"a TTL":        {TTL: "expiresAt"},
		"a hash key":   {PrimaryIndex: Index{HashKey: "id"}},
		"some indexes": {GlobalIndexes: map[string]GlobalIndex{"ByX": {HashKey: "x"}}},
	} {
		if _, err := NewPersonaTable(stack, "T"+strings.ReplaceAll(name, " ", ""), props); err == nil || !strings.Contains(err.Error(), "give Fields") {
			t.Errorf("%s without Fields: %v", name, err)
		}
	}
}
