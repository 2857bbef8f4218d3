package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/personabackend/app/internal/localaws"
	"github.com/personabackend/app/internal/localaws/localawstest"
	"github.com/personabackend/app/lambdas/internal/functiontest"
	"github.com/personabackend/app/persona"
	"github.com/personabackend/app/resource"
)

// env is what the deployed function gets, pointed at local servers.
func env(dynamoEndpoint, snsEndpoint, topicArn string) []string {
	return functiontest.Env(map[string]string{"DYNAMODB": dynamoEndpoint, "SNS": snsEndpoint},
		functiontest.TableLink(), functiontest.TopicLink(topicArn), functiontest.Settings(persona.Settings{Models: []string{"house-model"}, Tools: []string{"search"}, MaxInFlight: 5, StuckAfterSeconds: 900}))
}

func TestTheBootstrapStoresAPersonaAndItsTaskReachesThePersonaQueue(t *testing.T) {
	ctx := context.Background()
	dynalite, moto := localawstest.Dynalite(t), localawstest.Moto(t)
	db := dynamodb.NewFromConfig(localawstest.Config(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(dynalite.Endpoint) })
	if err := localaws.CreateTable(ctx, db, functiontest.TableName, persona.TableSchema()); err != nil {
		t.Fatal(err)
	}
	topics := sns.NewFromConfig(localawstest.Config(), func(o *sns.Options) { o.BaseEndpoint = aws.String(moto.Endpoint) })
	topic, err := topics.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(functiontest.TopicName), Attributes: map[string]string{"FifoTopic": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	queues := sqs.NewFromConfig(localawstest.Config(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(moto.Endpoint) })
	queue, err := queues.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(functiontest.QueueName), Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	queueArn, err := queues.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := topics.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(queueArn.Attributes["QueueArn"]),
		Attributes: map[string]string{"RawMessageDelivery": "true", "FilterPolicy": `{"queue":["persona"]}`},
	}); err != nil {
		t.Fatal(err)
	}
	fn := localawstest.StartBootstrap(t, localawstest.BuildBootstrap(t, "./lambdas/request"), env(dynalite.Endpoint, moto.Endpoint, *topic.TopicArn))

	res, err := fn.Invoke(ctx, postEvent("user-a", `{"name":"Trip Planner","instructions":"Ask for dates first."}`))
	if err != nil {
		t.Fatal(err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(res.Payload, &resp); err != nil || res.Failed {
		t.Fatalf("answer %s (failed %v)", res.Payload, res.Failed)
	}
	var body persona.RequestResponse
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("answer %d %s, want 202 with the persona", resp.StatusCode, resp.Body)
	}
	stored, err := persona.NewStore(db, functiontest.TableName).Get(ctx, body.Persona.ID)
	if err != nil || stored.UserID != "user-a" || stored.TaskState != persona.TaskPublished {
		t.Fatalf("stored %+v (%v), want user-a's persona with its task published", stored, err)
	}
	received, err := queues.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: queue.QueueUrl, MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	if msgs := received.Messages; len(msgs) != 1 || !strings.Contains(aws.ToString(msgs[0].Body), body.Persona.ID) {
		t.Fatalf("persona queue holds %+v, want the task for %s", msgs, body.Persona.ID)
	}
	if strings.Contains(fn.Output(), "Ask for dates first") {
		t.Errorf("the function logged the request body:\n%s", fn.Output())
	}
}

func postEvent(user, body string) []byte {
	ev, _ := json.Marshal(events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: persona.RouteRequest, RawPath: "/personas",
		Headers: map[string]string{"content-type": "application/json"},
		Body:    body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/personas"},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"sub": user}},
			},
		},
	})
	return ev
}

func TestTheBootstrapStopsAtInitWithoutItsTableOrTopicLinkOrSettingsNamingWhat(t *testing.T) {
	bin := localawstest.BuildBootstrap(t, "./lambdas/request")
	for variable, want := range map[string]string{
		resource.EnvName(persona.TableLink): `resource \"PersonaTable\" is not linked`,
		resource.EnvName(persona.TopicLink): `resource \"TaskTopic\" is not linked`,
		persona.SettingsEnv:                 persona.SettingsEnv + " is not set",
	} {
		unset := functiontest.Without(env("http://127.0.0.1:1", "http://127.0.0.1:1", "arn:topic"), variable)
		_, err := localawstest.StartFunction(context.Background(), bin, unset)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("without %s: err = %v, want an init failure saying %s", variable, err, want)
		}
	}
}

// BenchmarkInit measures the bootstrap's cold start: process start to its first
// request for an invocation.
func BenchmarkInit(b *testing.B) {
	localawstest.BenchmarkInit(b, "./lambdas/request", env("http://127.0.0.1:1", "http://127.0.0.1:1", "arn:topic"))
}
