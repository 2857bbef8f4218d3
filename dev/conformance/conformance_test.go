package conformance

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// scenario is one behaviour of an AWS API. run acts through target's clients and
// describes what it saw; want is what AWS answers, per the page doc.
type scenario struct {
	name string
	doc  string
	want string
	run  func(ctx context.Context, c *target) string
}

// target is an implementation of the AWS APIs under test: the stand-ins or moto.
type target struct {
	name     string
	sqs      *sqs.Client
	sns      *sns.Client
	ssm      *ssm.Client
	dynamodb *dynamodb.Client
	declare  declarer
	seq      atomic.Int64
}

// declarer creates what a scenario needs, the way each target can: the stand-ins
// from the stack description dev reads, moto through its create APIs.
type declarer interface {
	queue(ctx context.Context, q queueDef) (url string, err error)
	topic(ctx context.Context, t topicDef) (arn string, err error)
	subscribe(ctx context.Context, s subscriptionDef) error
	table(ctx context.Context, t tableDef) error
	parameter(ctx context.Context, p parameterDef) error
}

type queueDef struct {
	name                      string
	fifo                      bool
	contentBasedDeduplication bool
	visibilityTimeout         int
	maximumMessageSize        int // 0: the queue default
	deadLetterQueue           string
	maxReceiveCount           int
}

type topicDef struct {
	name                      string
	fifo                      bool
	contentBasedDeduplication bool
}

type subscriptionDef struct {
	topic, queue string // names
	filterPolicy string
	filterScope  string // "" or "MessageAttributes": attributes; "MessageBody": the body
	raw          bool
}

type tableDef struct {
	name           string
	hashKey        string
	rangeKey       string
	indexName      string
	indexHashKey   string
	indexRangeKey  string
	numberRangeKey bool
}

type parameterDef struct {
	name, typ, value string
}

// unique returns a name no other scenario of this target uses.
func (c *target) unique(base string) string {
	return fmt.Sprintf("c%d-%s", c.seq.Add(1), base)
}

// scenarios lists every scenario; names are unique sentences of behaviour.
func scenarios() []scenario {
	var all []scenario
	for _, group := range [][]scenario{sqsScenarios(), snsScenarios(), ssmScenarios(), dynamodbScenarios()} {
		all = append(all, group...)
	}
	return all
}

// motoDifference is a documented way in which moto answers a scenario unlike AWS.
type motoDifference struct {
	moto string // what moto answers
	why  string
}

// motoDifferences are the scenarios moto answers unlike AWS's documentation. The moto
// run checks that it still answers so, so the list stays true as moto changes.
var motoDifferences = map[string]motoDifference{
	// SQS
	"an empty message body is MissingParameter":                                      {"ok", "moto stores an empty body; SQS requires at least one character"},
	"message attributes count toward the queue's MaximumMessageSize":                 {"ok", "moto measures the body alone; SQS counts attribute names, types and values"},
	"a body holding a character outside XML's allowed set is InvalidMessageContents": {"ok", "moto does not check the character set"},
	"eleven message attributes are InvalidParameterValue":                            {"ok", "moto takes any number of attributes; SQS takes 10"},
	"a String attribute with an empty value is InvalidParameterValue":                {"ok", "moto takes empty attribute values"},
	"a Number attribute that is not a number is InvalidParameterValue":               {"ok", "moto does not parse Number attributes"},
	"an attribute name starting with AWS. is InvalidParameterValue":                  {"ok", "moto does not reserve the AWS. and Amazon. prefixes"},
	"a MessageGroupId holding a space is InvalidParameterValue":                      {"ok", "moto does not check the characters of a MessageGroupId"},
	"a MessageGroupId of 129 characters is InvalidParameterValue":                    {"ok", "moto does not limit a MessageGroupId to 128 characters"},
	"a MessageDeduplicationId of 129 characters is InvalidParameterValue":            {"ok", "moto does not limit a MessageDeduplicationId to 128 characters"},
	"a standard queue refuses a MessageDeduplicationId":                              {"ok", "moto takes a deduplication id on a standard queue"},
	"on a FIFO queue a receipt handle whose visibility timeout has passed cannot delete the message, which comes back": {
		"ok, then []", "moto deletes the message with an expired receipt handle"},
	"on a FIFO queue ChangeMessageVisibility with a receipt handle whose timeout has passed is InvalidParameterValue": {
		"ok", "moto changes the visibility with an expired receipt handle"},
	"on a standard queue the receipt handle of an earlier receive succeeds but leaves the message": {
		"ok visible 0, in flight 0", "moto deletes the message with any receipt handle it issued"},
	"DeleteMessageBatch with eleven entries is TooManyEntriesInBatchRequest":   {"ok", "moto does not limit DeleteMessageBatch to 10 entries"},
	"DeleteMessageBatch with a repeated entry id is BatchEntryIdsNotDistinct":  {"ok", "moto does not check DeleteMessageBatch's entry ids"},
	"DeleteMessageBatch with an entry id holding a dot is InvalidBatchEntryId": {"ok", "moto does not check DeleteMessageBatch's entry ids"},
	// SNS
	"publishing an empty message is InvalidParameter":           {"ok", "moto publishes an empty message"},
	"message attributes count toward the topic's 256 KiB":       {"ok", "moto measures the body alone; SNS counts the attributes too"},
	"a subject with a line break is InvalidParameter":           {"ok", "moto does not check subjects"},
	"a MessageGroupId of 129 characters is InvalidParameter":    {"ok", "moto does not limit a MessageGroupId to 128 characters"},
	"a FIFO publish without MessageGroupId is InvalidParameter": {"error MissingParameter (generic) 400", "moto answers MissingParameter, SNS InvalidParameter"},
	"a FIFO publish answers a sequence number":                  {"no sequence number", "moto answers no SequenceNumber for a FIFO topic"},
	"a FIFO topic with content-based deduplication delivers one of two identical bodies": {
		"error InvalidParameterValue (generic) 400", "moto does not hand the deduplication id it derives from the body to the FIFO queue, which refuses the message"},
	"a String attribute with an empty value is ParameterValueInvalid": {
		"error InvalidParameter (InvalidParameterException) 400", "moto answers InvalidParameter, SNS ParameterValueInvalid"},
	"a Number attribute that is not a number is ParameterValueInvalid": {
		"error InvalidParameter (InvalidParameterException) 400", "moto answers InvalidParameter, SNS ParameterValueInvalid"},
	"raw delivery to a queue drops a message with more than 10 attributes while a notification carries it": {
		"raw [m] notification 0", "moto delivers a raw message with 11 attributes, and drops the notification"},
	// SSM
	"GetParameter without decryption does not answer a SecureString's plaintext": {
		"SecureString, plaintext kms:alias/aws/ssm:s3cret", "moto answers the plaintext behind a key prefix instead of a ciphertext"},
	// DynamoDB
	"BatchWriteItem of 26 requests is ValidationException":                      {"ok", "moto takes more than 25 requests in one BatchWriteItem"},
	"DeleteItem with an empty string key is ValidationException":                {"ok", "moto does not check DeleteItem's key for empty strings"},
	"UpdateItem setting an index key to an empty string is ValidationException": {"ok", "moto lets an update set an index key to an empty string"},
	"PutItem with an index key of the wrong type is ValidationException":        {"ok", "moto does not check the type of an index key"},
}

// standInGap is an AWS behaviour the stand-ins knowingly lack.
type standInGap struct {
	standIns string // what the stand-ins answer
	why      string
}

// standInGaps are the scenarios the stand-ins answer unlike AWS, each with the reason it
// stays so. The stand-ins run checks that they still answer so.
var standInGaps = map[string]standInGap{
	"TransactWriteItems writes every item": {"error UnknownOperationException (generic) 400",
		"dynalite 4.0.0 implements no transactions and the proxy does not add them; the persona app uses none (LOCAL.md), so code that does is tested against moto"},
}

// results collects what each target answered, for the closing comparison.
type results struct {
	mu  sync.Mutex
	got map[string]map[string]string // scenario, target, observation
}

func (r *results) add(scenario, target, obs string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.got == nil {
		r.got = map[string]map[string]string{}
	}
	if r.got[scenario] == nil {
		r.got[scenario] = map[string]string{}
	}
	r.got[scenario][target] = obs
}

func TestScenariosAnswerAsAWSDocuments(t *testing.T) {
	all := scenarios()
	seen := map[string]bool{}
	for _, sc := range all {
		if seen[sc.name] {
			t.Fatalf("two scenarios are named %q", sc.name)
		}
		seen[sc.name] = true
		if !strings.HasPrefix(sc.doc, "https://docs.aws.amazon.com/") {
			t.Fatalf("scenario %q does not name the AWS page it follows", sc.name)
		}
	}
	for name := range motoDifferences {
		if !seen[name] {
			t.Fatalf("moto difference listed for unknown scenario %q", name)
		}
	}
	for name := range standInGaps {
		if !seen[name] {
			t.Fatalf("stand-in gap listed for unknown scenario %q", name)
		}
	}
	res := &results{}
	t.Run("stand-ins", func(t *testing.T) { runAll(t, standIns(t), all, res) })
	t.Run("moto", func(t *testing.T) { runAll(t, moto(t), all, res) })
	summarize(t, all, res)
}

func runAll(t *testing.T, c *target, all []scenario, res *results) {
	for _, sc := range all {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			got := sc.run(ctx, c)
			res.add(sc.name, c.name, got)
			want, why := sc.want, "AWS: "+sc.doc
			if d, ok := motoDifferences[sc.name]; ok && c.name == "moto" {
				want, why = d.moto, "moto's known difference: "+d.why
			}
			if g, ok := standInGaps[sc.name]; ok && c.name == "stand-ins" {
				want, why = g.standIns, "the stand-ins' known gap: "+g.why
			}
			if got != want {
				t.Errorf("%s answered\n  %s\nwant (%s)\n  %s", c.name, got, why, want)
			}
		})
	}
}

// summarize reports how many scenarios the stand-ins and moto answer alike.
func summarize(t *testing.T, all []scenario, res *results) {
	same, differ := 0, []string{}
	for _, sc := range all {
		byTarget := res.got[sc.name]
		a, okA := byTarget["stand-ins"]
		b, okB := byTarget["moto"]
		if !okA || !okB {
			return
		}
		if a == b {
			same++
		} else {
			differ = append(differ, sc.name)
		}
	}
	sort.Strings(differ)
	t.Logf("%d scenarios: %d answered alike by the stand-ins and moto, %d differently:\n  %s",
		len(all), same, len(differ), strings.Join(differ, "\n  "))
}

// failed describes an error as the SDK reports it: the error code (for SQS, the
// query-compatible code of the x-amzn-query-error header), the modeled error type
// the response's __type or Code selects, and the HTTP status.
func failed(err error) string {
	if err == nil {
		return "ok"
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return "error " + err.Error()
	}
	typ := fmt.Sprintf("%T", ae)
	typ = typ[strings.LastIndex(typ, ".")+1:]
	if typ == "GenericAPIError" {
		typ = "generic"
	}
	status := 0
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return fmt.Sprintf("error %s (%s) %d", ae.ErrorCode(), typ, status)
}

// str is a pointer to s, for SDK inputs.
func str(s string) *string { return aws.String(s) }
