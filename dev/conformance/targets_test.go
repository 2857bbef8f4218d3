package conformance

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/personabackend/app/dev"
	"github.com/personabackend/app/dev/dynamoproxy"
	"github.com/personabackend/app/dev/queues"
	"github.com/personabackend/app/dev/ssmlocal"
	"github.com/personabackend/app/dynamo"
	"github.com/personabackend/app/internal/localaws"
	"github.com/personabackend/app/internal/localaws/localawstest"
	"github.com/personabackend/app/topology"
)

// clients returns SDK clients for the services at endpoints.
func clients(name, awsEndpoint, dynamoEndpoint string, d declarer) *target {
	cfg := localawstest.Config()
	return &target{
		name:     name,
		sqs:      sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(awsEndpoint) }),
		sns:      sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(awsEndpoint) }),
		ssm:      ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = aws.String(awsEndpoint) }),
		dynamodb: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(dynamoEndpoint) }),
		declare:  d,
	}
}

// standIns serves the dev mode's SNS, SQS and SSM stand-ins and its DynamoDB proxy in
// front of dynalite on one endpoint, through the handler dev serves them with.
func standIns(t *testing.T) *target {
	db := localawstest.BareDynalite(t)
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	broker := queues.New(localawstest.Region, srv.URL)
	params := &parameters{values: map[string]parameterDef{}}
	ssmServer := ssmlocal.New(params, localawstest.Region)
	srv.Config.Handler = dev.AWSHandler(dynamoproxy.New(db.Endpoint, localawstest.Region), ssmServer, broker)
	c := clients("stand-ins", srv.URL, srv.URL, nil)
	c.declare = &standInDeclarer{broker: broker, params: params, db: c.dynamodb}
	return c
}

// parameters is the stand-in SSM's parameter store for the scenarios.
type parameters struct {
	mu     sync.Mutex
	values map[string]parameterDef
}

func (p *parameters) Parameters(_ context.Context, names []string) (map[string]ssmlocal.Parameter, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]ssmlocal.Parameter{}
	for _, n := range names {
		if v, ok := p.values[n]; ok {
			out[n] = ssmlocal.Parameter{Name: n, Type: v.typ, Value: v.value}
		}
	}
	return out, nil
}

type standInDeclarer struct {
	broker *queues.Broker
	params *parameters
	db     *dynamodb.Client
}

func (d *standInDeclarer) queue(_ context.Context, q queueDef) (string, error) {
	d.broker.CreateQueue(topology.Queue{
		Name: q.name, FIFO: q.fifo, ContentBasedDeduplication: q.contentBasedDeduplication,
		VisibilityTimeoutSeconds: q.visibilityTimeout, RetentionSeconds: 345600,
		DeadLetterQueue: q.deadLetterQueue, MaxReceiveCount: q.maxReceiveCount, MaximumMessageSize: q.maximumMessageSize,
	})
	return d.broker.QueueURL(q.name), nil
}

func (d *standInDeclarer) topic(_ context.Context, t topicDef) (string, error) {
	d.broker.CreateTopic(topology.Topic{Name: t.name, FIFO: t.fifo, ContentBasedDeduplication: t.contentBasedDeduplication})
	return d.broker.TopicARN(t.name), nil
}

func (d *standInDeclarer) subscribe(_ context.Context, s subscriptionDef) error {
	return d.broker.Subscribe(topology.Subscription{
		Topic: s.topic, Queue: s.queue, FilterPolicy: s.filterPolicy, FilterPolicyScope: s.filterScope, RawMessageDelivery: s.raw,
	})
}

func (d *standInDeclarer) table(ctx context.Context, t tableDef) error {
	return localaws.CreateTable(ctx, d.db, t.name, t.schema())
}

func (d *standInDeclarer) parameter(_ context.Context, p parameterDef) error {
	d.params.mu.Lock()
	defer d.params.mu.Unlock()
	d.params.values[p.name] = p
	return nil
}

// schema is the table's schema, as the stack declares one.
func (t tableDef) schema() dynamo.Table {
	rangeType := dynamo.String
	if t.numberRangeKey {
		rangeType = dynamo.Number
	}
	out := dynamo.Table{Fields: map[string]dynamo.FieldType{t.hashKey: dynamo.String}, PrimaryIndex: dynamo.Index{HashKey: t.hashKey, RangeKey: t.rangeKey}}
	if t.rangeKey != "" {
		out.Fields[t.rangeKey] = rangeType
	}
	if t.indexName != "" {
		out.Fields[t.indexHashKey] = dynamo.String
		if t.indexRangeKey != "" {
			out.Fields[t.indexRangeKey] = dynamo.String
		}
		out.GlobalIndexes = map[string]dynamo.GlobalIndex{t.indexName: {HashKey: t.indexHashKey, RangeKey: t.indexRangeKey}}
	}
	return out
}

// moto runs moto's server; without it the subtest skips, or fails when CI=true.
func moto(t *testing.T) *target {
	srv := localawstest.Moto(t)
	c := clients("moto", srv.Endpoint, srv.Endpoint, nil)
	c.declare = &motoDeclarer{c: c, queues: map[string]string{}, topics: map[string]string{}}
	return c
}

type motoDeclarer struct {
	c      *target
	mu     sync.Mutex
	queues map[string]string // name to ARN
	topics map[string]string // name to ARN
}

func (d *motoDeclarer) queue(ctx context.Context, q queueDef) (string, error) {
	attrs := map[string]string{}
	if q.fifo {
		attrs["FifoQueue"] = "true"
		attrs["ContentBasedDeduplication"] = strconv.FormatBool(q.contentBasedDeduplication)
	}
	if q.visibilityTimeout > 0 {
		attrs["VisibilityTimeout"] = strconv.Itoa(q.visibilityTimeout)
	}
	if q.maximumMessageSize > 0 {
		attrs["MaximumMessageSize"] = strconv.Itoa(q.maximumMessageSize)
	}
	if q.deadLetterQueue != "" {
		d.mu.Lock()
		dlq := d.queues[q.deadLetterQueue]
		d.mu.Unlock()
		attrs["RedrivePolicy"] = fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, dlq, q.maxReceiveCount)
	}
	out, err := d.c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(q.name), Attributes: attrs})
	if err != nil {
		return "", err
	}
	got, err := d.c.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		return "", err
	}
	d.mu.Lock()
	d.queues[q.name] = got.Attributes["QueueArn"]
	d.mu.Unlock()
	return *out.QueueUrl, nil
}

func (d *motoDeclarer) topic(ctx context.Context, t topicDef) (string, error) {
	attrs := map[string]string{}
	if t.fifo {
		attrs["FifoTopic"] = "true"
		attrs["ContentBasedDeduplication"] = strconv.FormatBool(t.contentBasedDeduplication)
	}
	out, err := d.c.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(t.name), Attributes: attrs})
	if err != nil {
		return "", err
	}

	d.mu.Lock()
	d.topics[t.name] = *out.TopicArn
	d.mu.Unlock()
	return *out.TopicArn, nil
}

func (d *motoDeclarer) subscribe(ctx context.Context, s subscriptionDef) error {
	d.mu.Lock()
	topic, queue := d.topics[s.topic], d.queues[s.queue]
	d.mu.Unlock()
	attrs := map[string]string{"RawMessageDelivery": strconv.FormatBool(s.raw)}
	if s.filterPolicy != "" {
		attrs["FilterPolicy"] = s.filterPolicy
	}
	if s.filterScope != "" {
		attrs["FilterPolicyScope"] = s.filterScope
	}
	_, err := d.c.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("sqs"), Endpoint: aws.String(queue), Attributes: attrs})
	return err
}

func (d *motoDeclarer) table(ctx context.Context, t tableDef) error {
	return localaws.CreateTable(ctx, d.c.dynamodb, t.name, t.schema())
}

func (d *motoDeclarer) parameter(ctx context.Context, p parameterDef) error {
	_, err := d.c.ssm.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(p.name), Value: aws.String(p.value), Type: ssmtypes.ParameterType(p.typ)})
	return err
}
