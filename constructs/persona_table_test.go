package constructs

import (
	"reflect"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/personabackend/app/dynamo"
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

// idTable is the smallest table: items by the string key id.
func idTable() TableProps {
	return TableProps{Schema: dynamo.Table{Fields: map[string]dynamo.FieldType{"id": dynamo.String}, PrimaryIndex: dynamo.Index{HashKey: "id"}}}
}

func TestAnInvalidSchemaOrStreamIsRefusedNamingTheTable(t *testing.T) {
	stack := scratchStack(t)
	valid := idTable().Schema
	tests := []struct {
		name  string
		props TableProps
		want  string
	}{
		{"empty props, which once meant the persona table", TableProps{}, "table Things: props.Schema is required"},
		{"only a name", TableProps{Name: "things"}, "table Things: props.Schema is required"},
		{"a schema DynamoDB would refuse", TableProps{Schema: dynamo.Table{Fields: map[string]dynamo.FieldType{"id": dynamo.String}}}, "table Things: primary index hash key is required"},
		{"an unknown stream view", TableProps{Schema: valid, Stream: "ALL"}, `table Things: stream "ALL"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewPersonaTable(stack, "Things", tt.props); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewPersonaTable = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestATableDeclaresTheSchemaItIsGivenAndRecordsItInTheTopology(t *testing.T) {
	stack := scratchStack(t)
	schema := dynamo.Table{
		Fields:        map[string]dynamo.FieldType{"sku": dynamo.String, "warehouse": dynamo.String, "count": dynamo.Number},
		PrimaryIndex:  dynamo.Index{HashKey: "sku", RangeKey: "warehouse"},
		GlobalIndexes: map[string]dynamo.GlobalIndex{"ByCount": {HashKey: "warehouse", RangeKey: "count", Projection: dynamo.Projection{Include: []string{"note"}}}},
	}
	if _, err := NewPersonaTable(stack, "Stock", TableProps{Schema: schema, Stream: StreamNewImage}); err != nil {
		t.Fatal(err)
	}
	synth := cdktf.Testing_Synth(stack.stack, jsii.Bool(false))
	props := map[string]any{
		"name":             "scratch-dev-stock",
		"hash_key":         "sku",
		"range_key":        "warehouse",
		"stream_view_type": "NEW_IMAGE",
		"global_secondary_index": []any{
			map[string]any{"name": "ByCount", "hash_key": "warehouse", "range_key": "count", "projection_type": "INCLUDE", "non_key_attributes": []any{"note"}},
		},
	}
	if !*cdktf.Testing_ToHaveResourceWithProperties(synth, jsii.String("aws_dynamodb_table"), &props) {
		t.Errorf("synthesized table lacks %v:\n%s", props, *synth)
	}
	topo := stack.Topology().Tables
	if len(topo) != 1 || topo[0].LinkName != "Stock" || topo[0].Name != "scratch-dev-stock" || !reflect.DeepEqual(topo[0].Schema, schema) {
		t.Errorf("topology tables = %+v, want Stock with the schema it was given", topo)
	}
}
