package constructs

import (
	"archive/zip"
	"encoding/json"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestGoFunctionsRunOnProvidedAL2023Arm64FromABootstrapZip(t *testing.T) {
	s := stackFor(t, "dev")
	fns := s.resources("aws_lambda_function")
	if len(fns) != 5 {
		t.Fatalf("want 5 functions, got %d", len(fns))
	}
	for name, fn := range fns {
		if fn["runtime"] != "provided.al2023" || fn["handler"] != "bootstrap" || !reflect.DeepEqual(fn["architectures"], []any{"arm64"}) {
			t.Errorf("%s: runtime %v handler %v architectures %v", name, fn["runtime"], fn["handler"], fn["architectures"])
		}
		zipPath := filepath.Join(s.dir, fn["filename"].(string))
		zr, err := zip.OpenReader(zipPath)
		if err != nil {
			t.Fatalf("%s: the function's zip: %v", name, err)
		}
		if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode().Perm()&0o111 == 0 {
			t.Errorf("%s: zip holds %v, want one executable bootstrap", name, zr.File)
		}
		zr.Close()
		if fn["source_code_hash"] != synthesized.result.Functions[0].SourceCodeHash() {
			t.Errorf("%s: source_code_hash %v, want the zip's %s", name, fn["source_code_hash"], synthesized.result.Functions[0].SourceCodeHash())
		}
	}
}

func TestAFunctionUsedByManyStagesIsBuiltOnce(t *testing.T) {
	if synthesized.err != nil {
		t.Fatal(synthesized.err)
	}
	if got := len(synthesized.result.Functions); got != 1 {
		t.Errorf("built %d artifacts for one package used by 10 functions, want 1", got)
	}
}

func TestFunctionsUseTheStageMemoryAndLogRetention(t *testing.T) {
	for stage, want := range map[string][2]float64{"dev": {256, 7}, "prod": {1024, 365}} {
		s := stackFor(t, stage)
		fn := s.only(t, "aws_lambda_function", "function_name", "shop-"+stage+"-list")
		logs := s.only(t, "aws_cloudwatch_log_group", "name", "/aws/lambda/shop-"+stage+"-list")
		if fn["memory_size"] != want[0] || logs["retention_in_days"] != want[1] {
			t.Errorf("%s: memory %v retention %v, want %v", stage, fn["memory_size"], logs["retention_in_days"], want)
		}
		if lc := fn["logging_config"].(map[string]any); !strings.Contains(lc["log_group"].(string), "ApiGetOrders_logs") {
			t.Errorf("%s: logs go to %v", stage, lc["log_group"])
		}
	}
}

func TestAProtectedStageKeepsEveryLogGroupWhenItIsRemoved(t *testing.T) {
	for stage, kept := range map[string]bool{"dev": false, "prod": true} {
		groups := stackFor(t, stage).resources("aws_cloudwatch_log_group")
		if len(groups) != 6 { // five functions (the worker and the scheduled one included), the API's access logs
			t.Errorf("%s: %d log groups", stage, len(groups))
		}
		for id, g := range groups {
			if (g["skip_destroy"] == true) != kept {
				t.Errorf("%s %s: skip_destroy %v, want %v", stage, id, g["skip_destroy"], kept)
			}
		}
	}
}

func TestOnlyLambdaMayAssumeAFunctionRole(t *testing.T) {
	s := stackFor(t, "dev")
	functionRoles := map[string]bool{}
	for _, fn := range s.resources("aws_lambda_function") {
		functionRoles[strings.TrimSuffix(strings.TrimPrefix(fn["role"].(string), "${aws_iam_role."), ".arn}")] = true
	}
	if len(functionRoles) != 5 {
		t.Fatalf("want the roles of 5 functions, got %v", functionRoles)
	}
	for name := range functionRoles {
		role := s.resources("aws_iam_role")[name]
		doc := decodeJSON(t, role["assume_role_policy"])
		st := doc["Statement"].([]any)
		if len(st) != 1 {
			t.Fatalf("%s: %v", name, st)
		}
		s := st[0].(map[string]any)
		if s["Action"] != "sts:AssumeRole" || !reflect.DeepEqual(s["Principal"], map[string]any{"Service": "lambda.amazonaws.com"}) {
			t.Errorf("%s: %v", name, s)
		}
	}
}

// grants flattens a policy into "action on resource" lines.
func grants(t *testing.T, policy any) []string {
	t.Helper()
	var out []string
	for _, raw := range decodeJSON(t, policy)["Statement"].([]any) {
		st := raw.(map[string]any)
		if st["Effect"] != "Allow" {
			t.Errorf("statement %v is not an Allow", st)
		}
		condition := ""
		if c, ok := st["Condition"]; ok {
			data, _ := json.Marshal(c)
			condition = " if " + shortRef(string(data))
		}
		for _, a := range st["Action"].([]any) {
			if strings.Contains(a.(string), "*") {
				t.Errorf("wildcard action %v", a)
			}
			for _, r := range st["Resource"].([]any) {
				out = append(out, a.(string)+" "+shortRef(r.(string))+condition)
			}
		}
	}
	sort.Strings(out)
	return out
}

// shortRef turns "${aws_dynamodb_table.Orders_table_E55BB446.arn}/index/*" into "Orders_table.arn/index/*".
func shortRef(s string) string {
	for {
		start := strings.Index(s, "${")
		if start < 0 {
			return s
		}
		end := strings.Index(s[start:], "}") + start
		parts := strings.Split(s[start+2:end], ".")
		id := parts[1]
		if i := strings.LastIndex(id, "_"); i > 0 && parts[0] != "data" {
			id = id[:i]
		}
		ref := id + "." + parts[len(parts)-1]
		if parts[0] == "data" {
			ref = parts[len(parts)-1]
		}
		s = s[:start] + ref + s[end+1:]
	}
}

func TestEachFunctionPolicyGrantsExactlyWhatItsLinksNeed(t *testing.T) {
	read := []string{"dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"}
	write := []string{"dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}
	on := func(actions []string, resources ...string) []string {
		var out []string
		for _, a := range actions {
			for _, r := range resources {
				out = append(out, a+" "+r)
			}
		}
		return out
	}
	logs := func(fn string) []string {
		return on([]string{"logs:CreateLogStream", "logs:PutLogEvents"}, fn+"_logs.arn:*")
	}
	param := func(stage string) string {
		return "arn:partition:ssm:eu-west-1:account_id:parameter/shop/" + stage + "/PaymentKey"
	}
	want := map[string][]string{
		"shop-dev-health": logs("ApiGetHealth"),
		// read: no Scan, and each index by name; Query on the table's own key too.
		"shop-dev-list": concat(logs("ApiGetOrders"),
			on(read, "Orders_table.arn"),
			on([]string{"dynamodb:Query"}, "Orders_table.arn/index/ByCustomer")),
		"shop-dev-place": concat(logs("ApiPostOrdersId"),
			on(write, "Orders_table.arn"),
			on([]string{"sns:Publish"}, "Events_topic.arn")),
		"shop-dev-shipping-worker": concat(logs("ShippingWorker"),
			on(concat(read, write), "Orders_table.arn"),
			on([]string{"dynamodb:Query"}, "Orders_table.arn/index/ByCustomer"),
			on([]string{"sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"}, "Shipping_queue.arn"),
			on([]string{"ssm:GetParameter"}, param("dev"), param("_fallback")),
			on([]string{"kms:Decrypt"}, "arn:partition:kms:eu-west-1:account_id:key/* if "+
				`{"StringEquals":{"kms:EncryptionContext:PARAMETER_ARN":["`+param("dev")+`","`+param("_fallback")+`"],"kms:ViaService":"ssm.eu-west-1.amazonaws.com"}}`)),
	}
	s := stackFor(t, "dev")
	for fn, wantGrants := range want {
		policy := s.only(t, "aws_iam_role_policy", "name", fn)
		got := grants(t, policy["policy"])
		sort.Strings(wantGrants)
		if !reflect.DeepEqual(got, wantGrants) {
			t.Errorf("%s grants:\n%s\nwant:\n%s", fn, strings.Join(got, "\n"), strings.Join(wantGrants, "\n"))
		}
	}
}

func TestLinkedResourcesReachTheFunctionEnvironment(t *testing.T) {
	env := stackFor(t, "dev").only(t, "aws_lambda_function", "function_name", "shop-dev-shipping-worker")["environment"].(map[string]any)["variables"].(map[string]any)
	var names []string
	for k := range env {
		names = append(names, k)
	}
	sort.Strings(names)
	if want := []string{"APP_NAME", "APP_STAGE", "RESOURCE_Orders", "RESOURCE_PaymentKey", "RESOURCE_Shipping"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("environment = %v, want %v", names, want)
	}
	table := decodeJSON(t, env["RESOURCE_Orders"])
	if table["kind"] != "table" || table["name"] != "shop-dev-orders" || !strings.Contains(table["arn"].(string), "aws_dynamodb_table") {
		t.Errorf("table link = %v", table)
	}
	queue := decodeJSON(t, env["RESOURCE_Shipping"])
	if queue["kind"] != "queue" || queue["maxReceiveCount"] != float64(5) || !strings.Contains(queue["url"].(string), ".url}") {
		t.Errorf("queue link = %v", queue)
	}
	secret := decodeJSON(t, env["RESOURCE_PaymentKey"])
	if secret["parameter"] != "/shop/dev/PaymentKey" || secret["fallbackParameter"] != "/shop/_fallback/PaymentKey" {
		t.Errorf("secret link = %v", secret)
	}
}

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func TestLinkRefusesAccessTheResourceDoesNotOffer(t *testing.T) {
	stack := scratchStack(t)
	table, err := NewPersonaTable(stack, "Things", idTable())
	if err != nil {
		t.Fatal(err)
	}
	topic, err := NewTaskOrchestrator(stack, "Topic", TaskOrchestratorProps{})
	if err != nil {
		t.Fatal(err)
	}
	fn, err := NewGoFunction(stack, "Fn", FunctionProps{Package: "./constructs/testdata/echo"})
	if err != nil {
		t.Fatal(err)
	}
	if err := fn.Link(table, Publish); err == nil || !strings.Contains(err.Error(), "a table accepts read, write, read-write") {
		t.Errorf("table with publish: %v", err)
	}
	if err := fn.Link(topic, Read); err == nil || !strings.Contains(err.Error(), "a topic accepts publish") {
		t.Errorf("topic with read: %v", err)
	}
	if err := fn.Link(table, Read); err != nil {
		t.Fatal(err)
	}
	if err := fn.Link(table, Write); err == nil || !strings.Contains(err.Error(), "linked twice") {
		t.Errorf("second link: %v", err)
	}
	if _, err := NewGoFunction(stack, "Other", FunctionProps{Package: "./constructs/testdata/echo", Name: "fn"}); err == nil || !strings.Contains(err.Error(), `already named "scratch-dev-fn"`) {
		t.Errorf("a second function named fn: %v", err)
	}
	for _, timeout := range []time.Duration{1 << 62, 1500 * time.Millisecond} {
		if _, err := NewGoFunction(stack, "Slow", FunctionProps{Package: "./constructs/testdata/echo", Timeout: timeout}); err == nil || !strings.Contains(err.Error(), "whole seconds") {
			t.Errorf("timeout %s: %v", timeout, err)
		}
	}
}
