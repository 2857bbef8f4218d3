package constructs

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatchmetricalarm"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/kmsalias"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/kmskey"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/snstopic"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/snstopicsubscription"
)

// AlarmsProps configures the topic alarms notify.
type AlarmsProps struct {
	// Name is the short name; the topic is "<app>-<stage>-<Name>". Default: from the id.
	Name string
	// Email are the addresses the topic notifies. AWS emails each a link to confirm
	// the subscription, and sends it nothing before it is confirmed.
	Email []string
}

// Alarms is an SNS topic that CloudWatch alarms notify, with its email subscriptions,
// and the alarms added to it with its methods; each notifies the topic when it fires
// and when it recovers.
//
// The topic is encrypted with a KMS key of its own, whose policy lets CloudWatch use
// it: CloudWatch publishes to an encrypted topic only when the key lets the
// cloudwatch.amazonaws.com principal generate data keys and decrypt with it, which
// the AWS-managed key alias/aws/sns does not (its policy cannot be changed), so
// alarms on a topic encrypted with it would never arrive. The key costs 1 USD a month.
type Alarms struct {
	stack *Stack
	scope constructs.Construct
	name  string
	topic snstopic.SnsTopic
	names map[string]bool // of the alarms declared
}

// Window is how an alarm reads its metric: the value over each Period (whole
// minutes), firing when Periods consecutive periods breach. Periods defaults to 1.
type Window struct {
	Period  time.Duration
	Periods int
}

func (w Window) validate() (Window, error) {
	if w.Periods == 0 {
		w.Periods = 1
	}
	if w.Period < time.Minute || w.Period%time.Minute != 0 {
		return w, fmt.Errorf("period %s: give whole minutes, at least one (the AWS metrics watched here are per minute)", w.Period)
	}
	if w.Periods < 1 || time.Duration(w.Periods)*w.Period > 24*time.Hour {
		return w, fmt.Errorf("%d periods of %s: CloudWatch evaluates at most one day", w.Periods, w.Period)
	}
	return w, nil
}

// NewAlarms declares the alarm topic, its key and its email subscriptions; add alarms
// with the methods.
func NewAlarms(stack *Stack, id string, props AlarmsProps) (*Alarms, error) {
	for _, address := range props.Email {
		if !emailAddress.MatchString(address) {
			return nil, fmt.Errorf("alarms %s: %q is not an email address", id, address)
		}
	}
	name := stack.ResourceName(firstNonEmpty(props.Name, kebab(id)))
	scope := stack.scope(id)
	root := fmt.Sprintf("arn:%s:iam::%s:root", stack.partitionName(), stack.accountID())
	policy, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{
			{
				// AWS's default key policy: the account's IAM policies decide who
				// administers and uses the key, so it can never become unmanageable.
				"Sid":       "AccountIAMPoliciesGovernTheKey",
				"Effect":    "Allow",
				"Principal": map[string]string{"AWS": root},
				"Action":    "kms:*",
				"Resource":  "*",
			},
			{
				"Sid":       "CloudWatchPublishesAlarms",
				"Effect":    "Allow",
				"Principal": map[string]string{"Service": "cloudwatch.amazonaws.com"},
				"Action":    []string{"kms:Decrypt", "kms:GenerateDataKey*"},
				"Resource":  "*",
			},
		},
	})
	if err != nil {
		return nil, err
	}
	// A removed stage's key waits the longest window before deletion on a protected
	// stage, so a mistaken removal can be undone; the topic holds no data past delivery.
	window := 7
	if stack.stage.Protected {
		window = 30
	}
	key := kmskey.NewKmsKey(scope, jsii.String("key"), &kmskey.KmsKeyConfig{
		Description:          jsii.String("Encrypts the alarm topic " + name + "; CloudWatch may use it to publish"),
		EnableKeyRotation:    jsii.Bool(true),
		DeletionWindowInDays: jsii.Number(float64(window)),
		Policy:               jsii.String(string(policy)),
	})
	kmsalias.NewKmsAlias(scope, jsii.String("key-alias"), &kmsalias.KmsAliasConfig{
		Name:        jsii.String("alias/" + name),
		TargetKeyId: key.KeyId(),
	})
	topic := snstopic.NewSnsTopic(scope, jsii.String("topic"), &snstopic.SnsTopicConfig{
		Name:           jsii.String(name),
		KmsMasterKeyId: key.Arn(),
	})
	for i, address := range props.Email {
		snstopicsubscription.NewSnsTopicSubscription(scope, jsii.String(fmt.Sprintf("email-%d", i+1)), &snstopicsubscription.SnsTopicSubscriptionConfig{
			TopicArn: topic.Arn(),
			Protocol: jsii.String("email"),
			Endpoint: jsii.String(address),
		})
	}
	return &Alarms{stack: stack, scope: scope, name: name, topic: topic, names: map[string]bool{}}, nil
}

// TopicName is the alarm topic's name.
func (a *Alarms) TopicName() string { return a.name }

// TopicArn is the alarm topic's ARN: subscribe more endpoints to it (chat, paging).
func (a *Alarms) TopicArn() string { return *a.topic.Arn() }

// metric is one CloudWatch metric of an AWS service.
type metric struct {
	namespace, name, statistic string
	dimensions                 map[string]string
}

// DeadLetters fires when q's dead-letter queue holds a message: a task that failed
// every delivery and waits for someone to look at it.
func (a *Alarms) DeadLetters(q *Queue, w Window) error {
	if q.topo.DeadLetterQueue == "" {
		return fmt.Errorf("alarm on the dead letters of %s: the queue has no dead-letter queue", q.Name())
	}
	return a.alarm(queueSubject(q.topo.DeadLetterQueue)+"-not-empty", "Messages wait in the dead-letter queue "+q.topo.DeadLetterQueue+": their tasks failed every delivery",
		metric{"AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", map[string]string{"QueueName": q.topo.DeadLetterQueue}}, 1, w)
}

// OldestMessage fires when the oldest message waiting in q is at least maxAge old:
// its worker is not keeping up, or not running.
func (a *Alarms) OldestMessage(q *Queue, maxAge time.Duration, w Window) error {
	if maxAge < time.Minute || maxAge%time.Second != 0 {
		return fmt.Errorf("alarm on the oldest message of %s: age %s must be whole seconds, at least a minute", q.Name(), maxAge)
	}
	return a.alarm(queueSubject(q.Name())+"-oldest-message", fmt.Sprintf("A message has waited in %s for %s or longer: its worker is not keeping up", q.Name(), maxAge),
		metric{"AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum", map[string]string{"QueueName": q.Name()}}, maxAge.Seconds(), w)
}

// FunctionErrors fires when fn's invocations fail (its handler returns an error,
// panics or times out) at least atLeast times in a period.
func (a *Alarms) FunctionErrors(fn *GoFunction, atLeast int, w Window) error {
	if atLeast < 1 {
		return fmt.Errorf("alarm on the errors of %s: give at least 1 error", fn.Name())
	}
	return a.alarm(fn.Name()+"-errors", fmt.Sprintf("%s failed %d or more times in %s", fn.Name(), atLeast, w.Period),
		metric{"AWS/Lambda", "Errors", "Sum", map[string]string{"FunctionName": fn.Name()}}, float64(atLeast), w)
}

// FunctionThrottles fires when Lambda refuses to run fn at least atLeast times in a
// period, because the account's or the function's concurrency is used up.
func (a *Alarms) FunctionThrottles(fn *GoFunction, atLeast int, w Window) error {
	if atLeast < 1 {
		return fmt.Errorf("alarm on the throttles of %s: give at least 1 throttle", fn.Name())
	}
	return a.alarm(fn.Name()+"-throttles", fmt.Sprintf("Lambda throttled %s %d or more times in %s: concurrency is used up", fn.Name(), atLeast, w.Period),
		metric{"AWS/Lambda", "Throttles", "Sum", map[string]string{"FunctionName": fn.Name()}}, float64(atLeast), w)
}

// ServerErrorRate fires when at least percent of the API's responses in a period are
// 5xx errors, counted in periods with at least minRequests requests only, so that one
// failure among a handful of requests does not page anyone.
func (a *Alarms) ServerErrorRate(api *BackendApi, percent float64, minRequests int, w Window) error {
	if percent <= 0 || percent > 100 {
		return fmt.Errorf("alarm on the 5xx rate of %s: percent %v must be above 0 and at most 100", api.id, percent)
	}
	if minRequests < 1 {
		return fmt.Errorf("alarm on the 5xx rate of %s: give at least 1 request", api.id)
	}
	w, err := w.validate()
	if err != nil {
		return fmt.Errorf("alarm on the 5xx rate of %s: %w", api.id, err)
	}
	name := api.name + "-5xx-rate"
	if err := a.claim(name); err != nil {
		return err
	}
	dimensions := &map[string]*string{"ApiId": api.api.Id()}
	query := func(id, metricName string) *cloudwatchmetricalarm.CloudwatchMetricAlarmMetricQuery {
		return &cloudwatchmetricalarm.CloudwatchMetricAlarmMetricQuery{
			Id: jsii.String(id),
			Metric: &cloudwatchmetricalarm.CloudwatchMetricAlarmMetricQueryMetric{
				Namespace:  jsii.String("AWS/ApiGateway"),
				MetricName: jsii.String(metricName),
				Dimensions: dimensions,
				Period:     jsii.Number(w.Period.Seconds()),
				Stat:       jsii.String("Sum"),
			},
		}
	}
	cloudwatchmetricalarm.NewCloudwatchMetricAlarm(a.scope, jsii.String(a.constructID(name)), &cloudwatchmetricalarm.CloudwatchMetricAlarmConfig{
		AlarmName:          jsii.String(name),
		AlarmDescription:   jsii.String(fmt.Sprintf("%v%% or more of the responses of %s were 5xx errors, over %d or more requests", percent, api.name, minRequests)),
		ComparisonOperator: jsii.String("GreaterThanOrEqualToThreshold"),
		Threshold:          jsii.Number(percent),
		EvaluationPeriods:  jsii.Number(float64(w.Periods)),
		// A period without requests has no data: nothing failed.
		TreatMissingData: jsii.String("notBreaching"),
		MetricQuery: []*cloudwatchmetricalarm.CloudwatchMetricAlarmMetricQuery{
			query("errors", "5xx"),
			query("requests", "Count"),
			{
				Id:         jsii.String("rate"),
				Expression: jsii.String(fmt.Sprintf("IF(requests >= %d, 100 * errors / requests, 0)", minRequests)),
				Label:      jsii.String("5xx responses (%)"),
				ReturnData: jsii.Bool(true),
			},
		},
		AlarmActions: jsii.Strings(a.TopicArn()),
		OkActions:    jsii.Strings(a.TopicArn()),
	})
	return nil
}

// queueSubject is a queue's name as the start of an alarm's: without ".fifo".
func queueSubject(queue string) string { return strings.TrimSuffix(queue, ".fifo") }

// alarm declares an alarm named "<subject>-<what>" on one metric, firing when the
// metric reaches threshold in w.Periods consecutive periods.
func (a *Alarms) alarm(name, description string, m metric, threshold float64, w Window) error {
	w, err := w.validate()
	if err != nil {
		return fmt.Errorf("alarm %s: %w", name, err)
	}
	if err := a.claim(name); err != nil {
		return err
	}
	dimensions := map[string]*string{}
	for k, v := range m.dimensions {
		dimensions[k] = jsii.String(v)
	}
	cloudwatchmetricalarm.NewCloudwatchMetricAlarm(a.scope, jsii.String(a.constructID(name)), &cloudwatchmetricalarm.CloudwatchMetricAlarmConfig{
		AlarmName:          jsii.String(name),
		AlarmDescription:   jsii.String(description),
		Namespace:          jsii.String(m.namespace),
		MetricName:         jsii.String(m.name),
		Dimensions:         &dimensions,
		Statistic:          jsii.String(m.statistic),
		Period:             jsii.Number(w.Period.Seconds()),
		EvaluationPeriods:  jsii.Number(float64(w.Periods)),
		ComparisonOperator: jsii.String("GreaterThanOrEqualToThreshold"),
		Threshold:          jsii.Number(threshold),
		// AWS publishes these metrics only while there is something to count (an
		// invocation, an active queue): no data means nothing went wrong. A queue
		// holding messages stays active, so a waiting dead letter keeps reporting.
		TreatMissingData: jsii.String("notBreaching"),
		AlarmActions:     jsii.Strings(a.TopicArn()),
		OkActions:        jsii.Strings(a.TopicArn()),
	})
	return nil
}

// claim reserves an alarm name: CloudWatch knows alarms by name in the region.
func (a *Alarms) claim(name string) error {
	if a.names[name] {
		return fmt.Errorf("alarm %s is declared twice", name)
	}
	a.names[name] = true
	return nil
}

// constructID is the alarm's construct id: its name without the stack's prefix.
func (a *Alarms) constructID(name string) string {
	return strings.TrimPrefix(name, a.stack.Name()+"-")
}
