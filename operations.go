package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/personabackend/app/backend"
	"github.com/personabackend/app/cli"
	"github.com/personabackend/app/cli/deadletter"
	"github.com/personabackend/app/internal/awsconfig"
	"github.com/personabackend/app/persona"
	"github.com/personabackend/app/topology"
)

// deployedStage is what the operations on a deployed stage work with: its topology
// (declared, not synthesized) and the AWS configuration of the account it runs in.
type deployedStage struct {
	topo *topology.Stack
	aws  aws.Config
}

// stageFlags parses --stage (default $STAGE) and the command's own flags; usage
// describes the command.
func stageFlags(name, usage string, stderr io.Writer, args []string, define func(*flag.FlagSet)) (string, int, bool) {
	flags := flag.NewFlagSet(name, flag.ContinueOnError)
	flags.SetOutput(stderr)
	stage := flags.String("stage", os.Getenv("STAGE"), "the deployed stage (default $STAGE)")
	define(flags)
	flags.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fmt.Fprintln(stderr, "\nFlags:")
		cli.PrintFlags(stderr, flags)
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", 0, false
		}
		return "", 2, false
	}
	if *stage == "" || flags.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: name the deployed stage with --stage, e.g. %s %s --stage dev\n", name, cli.Program, name)
		return "", 2, false
	}
	return *stage, 0, true
}

func loadStage(ctx context.Context, name string) (deployedStage, error) {
	cfg, err := backend.ConfigFromEnv(ctx)
	if err != nil {
		return deployedStage{}, err
	}
	topo, err := backend.Topology(ctx, cfg, name)
	if err != nil {
		return deployedStage{}, err
	}
	awsCfg, err := awsconfig.Load(ctx)
	if err != nil {
		return deployedStage{}, err
	}
	return deployedStage{topo: topo, aws: awsCfg}, nil
}

func (s deployedStage) store() (*persona.Store, error) {
	for _, t := range s.topo.Tables {
		if t.LinkName == persona.TableLink {
			return persona.NewStore(dynamodb.NewFromConfig(s.aws), t.Name), nil
		}
	}
	return nil, fmt.Errorf("stage %s declares no %s", s.topo.Stage, persona.TableLink)
}

const dlqUsage = `usage: go run . dlq --stage STAGE [--redrive] [--max 100]

Lists the provisioning tasks in the stage's dead-letter queue, each with its persona's
status now, and leaves them there: it receives them, then makes each visible again
at once (a look counts as one more receive of each). With --redrive it then moves
them all back to the persona queue (SQS's dead-letter queue redrive) and follows the
move until it ends; Ctrl-C stops following, not the move. Redrive once the cause is
fixed: a persona that is failed by now stays failed, as the worker leaves it alone.
Needs AWS credentials for the stage's account (sqs:GetQueueUrl, GetQueueAttributes,
ReceiveMessage, ChangeMessageVisibility on the dead-letter queue, dynamodb:GetItem on
the persona table; for --redrive sqs:StartMessageMoveTask, ListMessageMoveTasks, and
SendMessage on the persona queue).`

// runDLQ lists the persona queue's dead-lettered tasks and, with --redrive, moves them back.
func runDLQ(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var redrive bool
	var limit int
	name, code, ok := stageFlags("dlq", dlqUsage, stderr, args, func(f *flag.FlagSet) {
		f.BoolVar(&redrive, "redrive", false, "move every dead-lettered task back to the persona queue")
		f.IntVar(&limit, "max", 100, "list at most this many tasks")
	})
	if !ok {
		return code
	}
	if err := dlq(ctx, name, redrive, limit, stdout); err != nil {
		fmt.Fprintf(stderr, "dlq: %v\n", err)
		return 1
	}
	return 0
}

func dlq(ctx context.Context, name string, redrive bool, limit int, w io.Writer) error {
	if limit < 1 {
		return fmt.Errorf("--max %d: list at least 1", limit)
	}
	stage, err := loadStage(ctx, name)
	if err != nil {
		return err
	}
	var queueTopo topology.Queue
	for _, q := range stage.topo.Queues {
		if q.LinkName == persona.QueueLink {
			queueTopo = q
		}
	}
	if queueTopo.DeadLetterQueue == "" {
		return fmt.Errorf("stage %s declares no %s with a dead-letter queue", name, persona.QueueLink)
	}
	store, err := stage.store()
	if err != nil {
		return err
	}
	client := sqs.NewFromConfig(stage.aws)
	dead, err := deadletter.Find(ctx, client, queueTopo.DeadLetterQueue)
	if err != nil {
		return err
	}
	queue, err := deadletter.Find(ctx, client, queueTopo.Name)
	if err != nil {
		return err
	}
	msgs, err := deadletter.Peek(ctx, client, dead, limit)
	if err != nil {
		return err
	}
	if len(msgs) == 0 {
		fmt.Fprintf(w, "%s is empty: no provisioning task was given up on.\n", dead.Name)
		return nil
	}
	fmt.Fprintf(w, "%s holds %d task(s) (SQS's estimate); %d shown:\n\n", dead.Name, max(dead.Messages, len(msgs)), len(msgs))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MESSAGE\tFIRST SENT\tRECEIVES\tPERSONA\tUSER\tSTATUS NOW")
	failed := 0
	for _, m := range msgs {
		id, user, status := describeTask(ctx, store, m.Body)
		if strings.HasPrefix(status, "failed") {
			failed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", m.ID, m.SentAt.Format(time.RFC3339), m.Receives, id, user, status)
	}
	tw.Flush()
	if !redrive {
		fmt.Fprintf(w, "\nOnce their cause is fixed, move them back to %s with:\n  %s dlq --stage %s --redrive\n", queue.Name, cli.Program, name)
		if failed > 0 {
			fmt.Fprintf(w, "%d of their personas are failed by now and stay failed: their users request them again.\n", failed)
		}
		return nil
	}
	handle, err := deadletter.Redrive(ctx, client, dead, queue)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nMoving the tasks of %s back to %s (move %s)...\n", dead.Name, queue.Name, handle)
	move, err := deadletter.Follow(ctx, client, dead, handle, 2*time.Second, func(m deadletter.Move) {
		fmt.Fprintf(w, "  %s: %d of %s moved\n", m.Status, m.Moved, orUnknown(m.ToMove))
	})
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(w, "Stopped following; the move goes on in SQS. Run %s dlq --stage %s to see what is left.\n", cli.Program, name)
		return nil
	}
	if err != nil {
		return err
	}
	if move.Status != "COMPLETED" {
		return fmt.Errorf("the move ended %s: %s", move.Status, move.Failure)
	}
	fmt.Fprintf(w, "Done: the worker provisions their personas that are still in flight.\n")
	return nil
}

func orUnknown(n int64) string {
	if n == 0 {
		return "?"
	}
	return fmt.Sprint(n)
}

// describeTask names a dead-lettered message's persona, its owner and its status now.
func describeTask(ctx context.Context, store *persona.Store, body string) (id, user, status string) {
	var task persona.Task
	if err := json.Unmarshal([]byte(body), &task); err != nil || task.Type != persona.TaskTypeProvision || task.PersonaID == "" {
		return "-", "-", "not a provisioning task"
	}
	p, err := store.Get(ctx, task.PersonaID)
	switch {
	case errors.Is(err, persona.ErrNotFound):
		return task.PersonaID, task.UserID, "no such persona"
	case err != nil:
		return task.PersonaID, task.UserID, "unknown: " + err.Error()
	case p.UserID != task.UserID:
		return task.PersonaID, task.UserID, "the persona is another user's: not a task this backend sent"
	case p.Status == persona.StatusFailed:
		return task.PersonaID, task.UserID, "failed: " + p.StatusReason
	}
	return task.PersonaID, task.UserID, string(p.Status)
}

const backfillUsage = `usage: go run . backfill-in-flight --stage STAGE

Once per stage, after deploying the StatusIndex keyed by inFlightSince: gives every
persona left requested or provisioning from before it an inFlightSince (its
createdAt), which puts it into StatusIndex, where the sweep moves it on and the cap
on personas in flight counts it. Personas the worker moves on get one on their way;
this reaches those left in flight for good. It reads the whole persona table once
(a read capacity unit per 8 KB of personas) and changes nothing else; running it
again adds nothing. Needs AWS credentials for the stage's account
(dynamodb:Scan and UpdateItem on the persona table).`

// runBackfill puts the personas left in flight before StatusIndex was sparse into it.
func runBackfill(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	name, code, ok := stageFlags("backfill-in-flight", backfillUsage, stderr, args, func(*flag.FlagSet) {})
	if !ok {
		return code
	}
	if err := backfill(ctx, name, stdout); err != nil {
		fmt.Fprintf(stderr, "backfill-in-flight: %v\n", err)
		return 1
	}
	return 0
}

func backfill(ctx context.Context, name string, w io.Writer) error {
	stage, err := loadStage(ctx, name)
	if err != nil {
		return err
	}
	store, err := stage.store()
	if err != nil {
		return err
	}
	res, err := store.BackfillInFlight(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Read %d personas (%.1f read capacity units); put %d in flight into %s.\n", res.Read, res.Capacity, res.Added, persona.StatusIndex)
	return nil
}
