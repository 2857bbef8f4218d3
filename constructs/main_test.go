package constructs

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/personabackend/app/dynamo"
)

// One jsii runtime per test binary costs about 2 s, so every test reads the stacks
// of one app synthesized once in TestMain: a dev and a prod stage of a small app
// that uses every construct.
var synthesized struct {
	outdir string
	result SynthResult
	stacks map[string]*synthStack // by stage
	err    error
}

const testApp = "shop"

type synthStack struct {
	json string // cdk.tf.json as written
	doc  map[string]any
	dir  string
}

func TestMain(m *testing.M) {
	outdir, err := os.MkdirTemp("", "constructs-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// A stack and its HCL left by an earlier synth, which this synth (without HCL) must remove.
	for _, stale := range []string{"stacks", "hcl"} {
		if err := os.MkdirAll(filepath.Join(outdir, stale, testApp+"-old"), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	synthesized.outdir = outdir
	synthesized.err = synthTestApp(outdir)
	code := m.Run()
	Close()
	os.RemoveAll(outdir)
	os.Exit(code)
}

func synthTestApp(outdir string) error {
	ctx := context.Background()
	app, err := NewApp(ctx, AppProps{Name: testApp, Outdir: outdir, Region: "eu-west-1"})
	if err != nil {
		return err
	}
	for _, name := range []string{"dev", "prod"} {
		stage, err := LookupStage(name)
		if err != nil {
			return err
		}
		if stage.Protected {
			stage.EmailSender = &testEmailSender
			stage.AlarmEmail = []string{"oncall@shop.example.com", "shop-team@shop.example.com"}
		}
		if err := defineTestStack(app, stage); err != nil {
			return err
		}
	}
	result, err := app.Synth()
	if err != nil {
		return err
	}
	synthesized.result = result
	synthesized.stacks = map[string]*synthStack{}
	for _, s := range result.Stacks {
		data, err := os.ReadFile(filepath.Join(s.Dir, "cdk.tf.json"))
		if err != nil {
			return err
		}
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			return err
		}
		synthesized.stacks[s.Name[len(testApp)+1:]] = &synthStack{json: string(data), doc: doc, dir: s.Dir}
	}
	return nil
}

// testEmailSender is the prod stage's: its user pool emails through SES.
var testEmailSender = EmailSender{
	From:           "Shop <no-reply@shop.example.com>",
	SESIdentityARN: "arn:aws:ses:eu-west-1:123456789012:identity/shop.example.com",
	ReplyTo:        "help@shop.example.com",
}

// defineTestStack declares: secrets, an orders table, a topic with a queue and a
// worker, an API with a read route, a throttled write route and a public route, a
// scheduled function, a user pool, a static site that calls the API and signs in with
// the pool, and on a stage with alarms, alarms on all of them.
func defineTestStack(app *App, stage Stage) error {
	stack, err := app.NewStack(stage)
	if err != nil {
		return err
	}
	secrets, err := NewSecretSet(stack, "PaymentKey", "MailToken")
	if err != nil {
		return err
	}
	paymentKey, _ := secrets.Secret("PaymentKey")
	table, err := NewPersonaTable(stack, "Orders", TableProps{Schema: dynamo.Table{
		Fields:        map[string]dynamo.FieldType{"orderId": dynamo.String, "customerId": dynamo.String, "placedAt": dynamo.Number},
		PrimaryIndex:  dynamo.Index{HashKey: "orderId"},
		GlobalIndexes: map[string]dynamo.GlobalIndex{"ByCustomer": {HashKey: "customerId", RangeKey: "placedAt", Projection: dynamo.Projection{KeysOnly: true}}},
		TTL:           "expiresAt",
	}})
	if err != nil {
		return err
	}
	topic, err := NewTaskOrchestrator(stack, "Events", TaskOrchestratorProps{})
	if err != nil {
		return err
	}
	shipping, err := topic.SubscribeQueue("Shipping", QueueSubscriptionProps{
		Filter: map[string]any{"queue": []string{"shipping"}},
		Worker: FunctionProps{
			Package: "./constructs/testdata/echo",
			Timeout: 20 * time.Second,
			Links:   []LinkTo{{table, ReadWrite}, {paymentKey, Read}},
		},
	})
	if err != nil {
		return err
	}
	api, err := NewBackendApi(stack, "Api", BackendApiProps{Auth: &JWTAuth{Issuer: "https://issuer.example.com", Audience: []string{"shop-client"}}})
	if err != nil {
		return err
	}
	list, err := api.Route("GET /orders", FunctionProps{Package: "./constructs/testdata/echo", Name: "list", Links: []LinkTo{{table, Read}}})
	if err != nil {
		return err
	}
	place, err := api.Route("POST /orders/{id}", FunctionProps{Package: "./constructs/testdata/echo", Name: "place", Links: []LinkTo{{table, Write}, {topic, Publish}}},
		Throttled(Throttle{Rate: 5, Burst: 10}))
	if err != nil {
		return err
	}
	if _, err := api.Route("GET /health", FunctionProps{Package: "./constructs/testdata/echo", Name: "health"}, Public()); err != nil {
		return err
	}
	if _, err := NewScheduledFunction(stack, "Reminders", ScheduleProps{
		Every: 10 * time.Minute,
		Function: FunctionProps{
			Package: "./constructs/testdata/echo",
			Links:   []LinkTo{{table, TableAccess{Operations: []TableOp{GetItem}, ScanIndexes: []string{"ByCustomer"}}}},
		},
	}); err != nil {
		return err
	}
	if stage.Alarms {
		alarms, err := NewAlarms(stack, "Alarms", AlarmsProps{Email: stage.AlarmEmail})
		if err != nil {
			return err
		}
		minute := Window{Period: time.Minute}
		for _, add := range []func() error{
			func() error { return alarms.DeadLetters(shipping, minute) },
			func() error { return alarms.OldestMessage(shipping, 10*time.Minute, Window{Period: 5 * time.Minute}) },
			func() error { return alarms.FunctionErrors(shipping.Worker(), 1, Window{Period: 5 * time.Minute}) },
			func() error { return alarms.FunctionThrottles(list, 1, Window{Period: 5 * time.Minute}) },
			func() error { return alarms.FunctionThrottles(place, 1, Window{Period: 5 * time.Minute}) },
			func() error { return alarms.ServerErrorRate(api, 5, 20, Window{Period: 5 * time.Minute, Periods: 2}) },
		} {
			if err := add(); err != nil {
				return err
			}
		}
		stack.Output("AlarmTopic", alarms.TopicArn(), "Topic the alarms notify")
	}
	pool, err := NewUserPool(stack, "Customers", UserPoolProps{})
	if err != nil {
		return err
	}
	site, err := NewStaticSite(stack, "Storefront", StaticSiteProps{
		Path: "constructs/testdata/site",
		PublicConfig: map[string]any{
			"stage":            stage.Name,
			"apiUrl":           api.URL(),
			"userPoolId":       pool.ID(),
			"userPoolClientId": pool.ClientID(),
			"pageSize":         25,
			"beta":             true,
			"motto":            "prices in ${currency}, %{if} free",
		},
		ConnectTo: []string{api.URL(), pool.SignInOrigin()},
	})
	if err != nil {
		return err
	}
	if err := api.AllowOrigins(site.URL(), "http://localhost:3001"); err != nil {
		return err
	}
	stack.Output("ApiUrl", api.URL(), "API base URL")
	stack.Output("WebUrl", site.URL(), "The site's address")
	return nil
}

func stackFor(t *testing.T, stage string) *synthStack {
	t.Helper()
	if synthesized.err != nil {
		t.Fatalf("synthesizing the test app: %v", synthesized.err)
	}
	s, ok := synthesized.stacks[stage]
	if !ok {
		t.Fatalf("no %s stack synthesized", stage)
	}
	return s
}

// resources returns the resources of one type, by their logical name.
func (s *synthStack) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	all, _ := s.doc["resource"].(map[string]any)
	byName, _ := all[typ].(map[string]any)
	for name, r := range byName {
		out[name] = r.(map[string]any)
	}
	return out
}

// only returns the single resource of a type whose name attribute (nameKey) is name.
func (s *synthStack) only(t *testing.T, typ, nameKey, name string) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, r := range s.resources(typ) {
		if r[nameKey] == name {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one %s with %s=%q, found %d", typ, nameKey, name, len(found))
	}
	return found[0]
}

// hasResource asserts with cdktf's own matcher.
func (s *synthStack) hasResource(t *testing.T, typ string, props map[string]any) {
	t.Helper()
	if !*cdktf.Testing_ToHaveResourceWithProperties(jsii.String(s.json), jsii.String(typ), &props) {
		t.Errorf("no %s with properties %v", typ, props)
	}
}

func decodeJSON(t *testing.T, v any) map[string]any {
	t.Helper()
	str, ok := v.(string)
	if !ok {
		t.Fatalf("want a JSON string, got %T", v)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(str), &out); err != nil {
		t.Fatalf("decoding %s: %v", str, err)
	}
	return out
}
