package constructs

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// alarmsOf returns a stack's metric alarms by alarm name.
func (s *synthStack) alarmsOf() map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, r := range s.resources("aws_cloudwatch_metric_alarm") {
		out[r["alarm_name"].(string)] = r
	}
	return out
}

func TestAlarmsNotifyATopicEncryptedWithAKeyCloudWatchMayUse(t *testing.T) {
	s := stackFor(t, "prod")
	topic := s.only(t, "aws_sns_topic", "name", "shop-prod-alarms")
	if key, _ := topic["kms_master_key_id"].(string); !strings.HasPrefix(key, "${aws_kms_key.Alarms_key_") {
		t.Errorf("topic key = %v, want the alarms' own KMS key (alias/aws/sns does not let CloudWatch publish)", topic["kms_master_key_id"])
	}
	var key map[string]any
	for _, k := range s.resources("aws_kms_key") {
		key = k
	}
	if key == nil || key["enable_key_rotation"] != true || key["deletion_window_in_days"] != float64(30) {
		t.Fatalf("key = %v, want rotation and a 30-day window on a protected stage", key)
	}
	cloudWatchMay := false
	for _, st := range decodeJSON(t, key["policy"])["Statement"].([]any) {
		st := st.(map[string]any)
		principal, _ := st["Principal"].(map[string]any)
		if principal["Service"] == "cloudwatch.amazonaws.com" && st["Effect"] == "Allow" &&
			strings.Join(toStrings(st["Action"]), ",") == "kms:Decrypt,kms:GenerateDataKey*" {
			cloudWatchMay = true
		}
	}
	if !cloudWatchMay {
		t.Errorf("key policy %v does not let CloudWatch generate data keys and decrypt", key["policy"])
	}
	s.only(t, "aws_kms_alias", "name", "alias/shop-prod-alarms")
	var emails []string
	for _, sub := range s.resources("aws_sns_topic_subscription") {
		if sub["protocol"] == "email" {
			emails = append(emails, sub["endpoint"].(string))
			if !strings.HasPrefix(sub["topic_arn"].(string), "${aws_sns_topic.Alarms_topic_") {
				t.Errorf("subscription %v is not to the alarm topic", sub)
			}
		}
	}
	if strings.Join(slices.Sorted(slices.Values(emails)), ",") != "oncall@shop.example.com,shop-team@shop.example.com" {
		t.Errorf("email subscriptions = %v, want the stage's alarm emails", emails)
	}
	if outputs := s.doc["output"].(map[string]any); outputs["AlarmTopic"] == nil {
		t.Errorf("no AlarmTopic output")
	}
}

func TestEachAlarmWatchesItsMetricAndTellsTheTopicWhenItFiresAndRecovers(t *testing.T) {
	alarms := stackFor(t, "prod").alarmsOf()
	for _, want := range []struct {
		name, metric, statistic, dimension, value string
		threshold, period                         float64
	}{
		{"shop-prod-shipping-dlq-not-empty", "ApproximateNumberOfMessagesVisible", "Maximum", "QueueName", "shop-prod-shipping-dlq.fifo", 1, 60},
		{"shop-prod-shipping-oldest-message", "ApproximateAgeOfOldestMessage", "Maximum", "QueueName", "shop-prod-shipping.fifo", 600, 300},
		{"shop-prod-shipping-worker-errors", "Errors", "Sum", "FunctionName", "shop-prod-shipping-worker", 1, 300},
		{"shop-prod-list-throttles", "Throttles", "Sum", "FunctionName", "shop-prod-list", 1, 300},
		{"shop-prod-place-throttles", "Throttles", "Sum", "FunctionName", "shop-prod-place", 1, 300},
	} {
		a, ok := alarms[want.name]
		if !ok {
			t.Errorf("no alarm %s", want.name)
			continue
		}
		if a["metric_name"] != want.metric || a["statistic"] != want.statistic || a["threshold"] != want.threshold || a["period"] != want.period ||
			a["comparison_operator"] != "GreaterThanOrEqualToThreshold" || a["dimensions"].(map[string]any)[want.dimension] != want.value {
			t.Errorf("alarm %s = %v, want %+v", want.name, a, want)
		}
	}
	rate, ok := alarms["shop-prod-api-5xx-rate"]
	if !ok {
		t.Fatalf("no 5xx rate alarm; alarms: %v", slices.Sorted(maps.Keys(alarms)))
	}
	queries := map[string]map[string]any{}
	for _, q := range rate["metric_query"].([]any) {
		q := q.(map[string]any)
		queries[q["id"].(string)] = q
	}
	if queries["rate"]["expression"] != "IF(requests >= 20, 100 * errors / requests, 0)" || queries["rate"]["return_data"] != true ||
		rate["threshold"] != float64(5) || rate["evaluation_periods"] != float64(2) {
		t.Errorf("5xx rate alarm = %v", rate)
	}
	for id, metric := range map[string]string{"errors": "5xx", "requests": "Count"} {
		m := queries[id]["metric"].(map[string]any)
		if m["metric_name"] != metric || m["namespace"] != "AWS/ApiGateway" || m["stat"] != "Sum" || m["period"] != float64(300) ||
			!strings.HasPrefix(m["dimensions"].(map[string]any)["ApiId"].(string), "${aws_apigatewayv2_api.Api_api_") {
			t.Errorf("5xx rate's %s = %v", id, m)
		}
	}
	for name, a := range alarms {
		actions, ok := toStrings(a["alarm_actions"]), toStrings(a["ok_actions"])
		if len(actions) != 1 || !strings.HasPrefix(actions[0], "${aws_sns_topic.Alarms_topic_") || strings.Join(ok, ",") != actions[0] {
			t.Errorf("%s: alarm actions %v, ok actions %v, want the alarm topic for both", name, actions, ok)
		}
		if a["treat_missing_data"] != "notBreaching" {
			t.Errorf("%s: treat_missing_data %v", name, a["treat_missing_data"])
		}
	}
	if len(alarms) != 6 {
		t.Errorf("alarms = %v", slices.Sorted(maps.Keys(alarms)))
	}
}

func TestAStageWithoutAlarmsHasNoAlarmTopic(t *testing.T) {
	s := stackFor(t, "dev")
	if n := len(s.resources("aws_cloudwatch_metric_alarm")) + len(s.resources("aws_kms_key")); n != 0 {
		t.Errorf("dev has %d alarms and keys", n)
	}
}

func TestAlarmsRefuseWhatCloudWatchWouldNot(t *testing.T) {
	app, err := NewApp(context.Background(), AppProps{Name: "scratch", Outdir: t.TempDir(), DeclareOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	stage, _ := LookupStage("dev")
	stack, err := app.NewStack(stage)
	if err != nil {
		t.Fatal(err)
	}
	var queue *Queue
	var api *BackendApi
	if err := app.Declare(func() error {
		topic, err := NewTaskOrchestrator(stack, "Jobs", TaskOrchestratorProps{})
		if err != nil {
			return err
		}
		queue, err = topic.SubscribeQueue("Work", QueueSubscriptionProps{Filter: map[string]any{"q": []string{"work"}}, Worker: FunctionProps{Package: "./constructs/testdata/echo"}})
		if err != nil {
			return err
		}
		api, err = NewBackendApi(stack, "Api", BackendApiProps{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewAlarms(stack, "Bad", AlarmsProps{Email: []string{"not an address"}}); err == nil || !strings.Contains(err.Error(), "not an email address") {
		t.Errorf("NewAlarms with a bad email = %v", err)
	}
	alarms, err := NewAlarms(stack, "Alarms", AlarmsProps{})
	if err != nil {
		t.Fatal(err)
	}
	five := Window{Period: 5 * time.Minute}
	if err := alarms.FunctionErrors(queue.Worker(), 1, five); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		add  func() error
		err  string
	}{
		{"a period shorter than a minute", func() error { return alarms.DeadLetters(queue, Window{Period: 30 * time.Second}) }, "whole minutes"},
		{"a period of no whole minutes", func() error { return alarms.DeadLetters(queue, Window{Period: 90 * time.Second}) }, "whole minutes"},
		{"more than a day of periods", func() error { return alarms.DeadLetters(queue, Window{Period: time.Hour, Periods: 25}) }, "at most one day"},
		{"an age under a minute", func() error { return alarms.OldestMessage(queue, 30*time.Second, five) }, "at least a minute"},
		{"no errors", func() error { return alarms.FunctionThrottles(queue.Worker(), 0, five) }, "at least 1"},
		{"a rate of nothing", func() error { return alarms.ServerErrorRate(api, 0, 20, five) }, "above 0"},
		{"a rate above all", func() error { return alarms.ServerErrorRate(api, 150, 20, five) }, "at most 100"},
		{"a rate over no requests", func() error { return alarms.ServerErrorRate(api, 5, 0, five) }, "at least 1 request"},
		{"the same alarm twice", func() error { return alarms.FunctionErrors(queue.Worker(), 3, five) }, "declared twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.add(); err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("error = %v, want %q", err, tc.err)
			}
		})
	}
}

func toStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			out = append(out, e.(string))
		}
		return out
	}
	return nil
}
