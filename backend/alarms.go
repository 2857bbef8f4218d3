package backend

import (
	"time"

	"github.com/personabackend/app/constructs"
)

// watch declares a stage's alarms: on what tells that personas are not being served
// or provisioned. They notify the stage's alarm emails (Stage.AlarmEmail) through
// the topic the AlarmTopicArn output names.
func watch(stack *constructs.Stack, stage constructs.Stage, queue *constructs.Queue, api *constructs.BackendApi, functions []*constructs.GoFunction) error {
	alarms, err := constructs.NewAlarms(stack, "Alarms", constructs.AlarmsProps{Email: stage.AlarmEmail})
	if err != nil {
		return err
	}
	fiveMinutes := constructs.Window{Period: 5 * time.Minute}
	// A dead letter is a persona whose task failed every delivery: it stays requested
	// until someone looks, so say so within minutes (SQS reports each minute).
	if err := alarms.DeadLetters(queue, constructs.Window{Period: time.Minute}); err != nil {
		return err
	}
	// A failing task is retried at most MaxReceives times, each after the visibility
	// timeout (5 × 60 s = 5 minutes with the worker's 10 s timeout). A message twice
	// that old is not being retried but waiting: the worker is not draining the queue
	// (throttled, failing before it reads its batch, or its event source turned off).
	oldest := 2 * time.Duration(queue.MaxReceives()) * queue.VisibilityTimeout()
	if err := alarms.OldestMessage(queue, oldest, fiveMinutes); err != nil {
		return err
	}
	// The worker reports a task that fails as a batch item failure, which is not an
	// error: an error is a crash, a timeout or a failure before it read its batch, and
	// one is worth a look.
	if err := alarms.FunctionErrors(queue.Worker(), 1, fiveMinutes); err != nil {
		return err
	}
	// Any throttle means the concurrency Lambda gives the account in the region is used
	// up (a new account may get as little as 10): callers get errors and tasks wait.
	for _, fn := range functions {
		if err := alarms.FunctionThrottles(fn, 1, fiveMinutes); err != nil {
			return err
		}
	}
	// The handlers answer 5xx only when something failed on our side (the table, the
	// topic, a timeout): one response in 20 over five minutes is an incident. Fewer
	// than 20 requests in five minutes are too few to call a rate.
	if err := alarms.ServerErrorRate(api, 5, 20, fiveMinutes); err != nil {
		return err
	}
	stack.Output("AlarmTopicArn", alarms.TopicArn(), "SNS topic the stage's alarms notify; subscribe more endpoints to it")
	return nil
}
