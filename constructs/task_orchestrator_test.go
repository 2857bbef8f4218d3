package constructs

import (
	"strings"
	"testing"
)

func TestTaskOrchestratorTopicIsFIFO(t *testing.T) {
	stackFor(t, "dev").hasResource(t, "aws_sns_topic", map[string]any{"name": "shop-dev-events.fifo", "fifo_topic": true})
}

func TestSubscribedQueueIsFIFOWithADeadLetterQueueAfterFiveReceives(t *testing.T) {
	s := stackFor(t, "dev")
	queue := s.only(t, "aws_sqs_queue", "name", "shop-dev-shipping.fifo")
	dlq := s.only(t, "aws_sqs_queue", "name", "shop-dev-shipping-dlq.fifo")
	if queue["fifo_queue"] != true || dlq["fifo_queue"] != true {
		t.Errorf("fifo: queue %v, dead-letter %v", queue["fifo_queue"], dlq["fifo_queue"])
	}
	redrive := decodeJSON(t, queue["redrive_policy"])
	// Five, AWS's least for a Lambda consumer: throttled receives count too.
	if redrive["maxReceiveCount"] != float64(5) || !strings.Contains(redrive["deadLetterTargetArn"].(string), "Shipping_dead-letter") {
		t.Errorf("redrive = %v", redrive)
	}
	if dlq["message_retention_seconds"] != float64(14*24*3600) {
		t.Errorf("dead-letter retention = %v, want 14 days", dlq["message_retention_seconds"])
	}
}

func TestAProtectedStagesDeadLetterQueueCannotBeDestroyed(t *testing.T) {
	for stage, protected := range map[string]bool{"dev": false, "prod": true} {
		dlq := stackFor(t, stage).only(t, "aws_sqs_queue", "name", "shop-"+stage+"-shipping-dlq.fifo")
		if lifecycle, _ := dlq["lifecycle"].(map[string]any); (lifecycle["prevent_destroy"] == true) != protected {
			t.Errorf("%s dead-letter queue: lifecycle %v, want prevent_destroy %v", stage, lifecycle, protected)
		}
	}
}

func TestQueueVisibilityTimeoutIsSixTimesTheWorkerTimeout(t *testing.T) {
	s := stackFor(t, "dev")
	worker := s.only(t, "aws_lambda_function", "function_name", "shop-dev-shipping-worker")
	queue := s.only(t, "aws_sqs_queue", "name", "shop-dev-shipping.fifo")
	if worker["timeout"] != float64(20) || queue["visibility_timeout_seconds"] != float64(120) {
		t.Errorf("worker timeout %v, visibility %v; want 20 and 120", worker["timeout"], queue["visibility_timeout_seconds"])
	}
}

func TestOnlyTheTopicMaySendToTheQueue(t *testing.T) {
	policies := stackFor(t, "dev").resources("aws_sqs_queue_policy")
	if len(policies) != 1 {
		t.Fatalf("want one queue policy, got %d", len(policies))
	}
	for _, p := range policies {
		doc := decodeJSON(t, p["policy"])
		st := doc["Statement"].([]any)
		if len(st) != 1 {
			t.Fatalf("want one statement, got %v", st)
		}
		s := st[0].(map[string]any)
		principal := s["Principal"].(map[string]any)["Service"]
		cond := s["Condition"].(map[string]any)["ArnEquals"].(map[string]any)["aws:SourceArn"]
		if principal != "sns.amazonaws.com" || s["Action"] != "sqs:SendMessage" || !strings.Contains(cond.(string), "aws_sns_topic.Events_topic") {
			t.Errorf("statement = %v", s)
		}
	}
}

func TestSubscriptionFiltersOnMessageAttributesAndDeliversRawMessages(t *testing.T) {
	stackFor(t, "dev").hasResource(t, "aws_sns_topic_subscription", map[string]any{
		"protocol":             "sqs",
		"filter_policy":        `{"queue":["shipping"]}`,
		"filter_policy_scope":  "MessageAttributes",
		"raw_message_delivery": true,
	})
}

func TestWorkerReportsPartialBatchFailures(t *testing.T) {
	s := stackFor(t, "dev")
	s.hasResource(t, "aws_lambda_event_source_mapping", map[string]any{
		"batch_size":              10,
		"function_response_types": []any{"ReportBatchItemFailures"},
	})
	for _, m := range s.resources("aws_lambda_event_source_mapping") {
		if !strings.Contains(m["event_source_arn"].(string), "Shipping_queue") || !strings.Contains(m["function_name"].(string), "ShippingWorker_function") {
			t.Errorf("mapping = %v", m)
		}
	}
}

func TestSubscribeQueueRejectsBadProps(t *testing.T) {
	stack := scratchStack(t)
	topic, err := NewTaskOrchestrator(stack, "Jobs", TaskOrchestratorProps{})
	if err != nil {
		t.Fatal(err)
	}
	worker := FunctionProps{Package: "./constructs/testdata/echo"}
	tests := []struct {
		name  string
		props QueueSubscriptionProps
		want  string
	}{
		{"no filter", QueueSubscriptionProps{Worker: worker}, "a Filter is required"},
		{"batch too large", QueueSubscriptionProps{Worker: worker, Filter: map[string]any{"q": []string{"a"}}, BatchSize: 11}, "1 to 10 messages"},
		{"worker without a package", QueueSubscriptionProps{Filter: map[string]any{"q": []string{"a"}}}, "Package is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := topic.SubscribeQueue("Q"+strings.ReplaceAll(tt.name, " ", ""), tt.props); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("SubscribeQueue = %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := NewTaskOrchestrator(stack, "Plain", TaskOrchestratorProps{Standard: true, ContentBasedDeduplication: true}); err == nil {
		t.Error("content-based deduplication on a standard topic was accepted")
	}
}
