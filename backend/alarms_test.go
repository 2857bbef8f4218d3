package backend

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestProdAlarmsOnDeadLettersAStuckQueueWorkerErrorsThrottlesAndThe5xxRate(t *testing.T) {
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	doc := stacks["persona-prod"].doc
	alarms := map[string]map[string]any{}
	byName, _ := doc["resource"].(map[string]any)["aws_cloudwatch_metric_alarm"].(map[string]any)
	for _, r := range byName {
		r := r.(map[string]any)
		alarms[r["alarm_name"].(string)] = r
	}
	want := map[string]float64{
		"persona-prod-persona-dlq-not-empty":  1,
		"persona-prod-persona-oldest-message": 600, // twice 5 receives of 60 s
		"persona-prod-worker-errors":          1,
		"persona-prod-list-throttles":         1,
		"persona-prod-get-throttles":          1,
		"persona-prod-request-throttles":      1,
		"persona-prod-worker-throttles":       1,
		"persona-prod-api-5xx-rate":           5,
	}
	if got := slices.Sorted(maps.Keys(alarms)); strings.Join(got, ",") != strings.Join(slices.Sorted(maps.Keys(want)), ",") {
		t.Fatalf("prod alarms = %v", got)
	}
	for name, threshold := range want {
		if alarms[name]["threshold"] != threshold {
			t.Errorf("%s: threshold %v, want %v", name, alarms[name]["threshold"], threshold)
		}
	}
	if outputs := doc["output"].(map[string]any); outputs["AlarmTopicArn"] == nil {
		t.Error("prod does not output the alarm topic")
	}
	for _, other := range []string{"persona-dev", "persona-staging", "persona-alice"} {
		if _, ok := stacks[other].doc["resource"].(map[string]any)["aws_cloudwatch_metric_alarm"]; ok {
			t.Errorf("%s has alarms without asking for them", other)
		}
	}
}
