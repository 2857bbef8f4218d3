package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/personabackend/app/internal/localaws"
	"github.com/personabackend/app/internal/localaws/localawstest"
	"github.com/personabackend/app/lambdas/internal/functiontest"
	"github.com/personabackend/app/persona"
)

// env is what the deployed function gets, pointed at local servers.
func env(dynamoEndpoint string) []string {
	return functiontest.Env(map[string]string{"DYNAMODB": dynamoEndpoint}, functiontest.TableLink())
}

func TestTheBootstrapListsTheCallersPersonas(t *testing.T) {
	ctx := context.Background()
	srv := localawstest.Dynalite(t)
	db := dynamodb.NewFromConfig(localawstest.Config(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(srv.Endpoint) })
	if err := localaws.CreateTable(ctx, db, functiontest.TableName, persona.TableSchema()); err != nil {
		t.Fatal(err)
	}
	store := persona.NewStore(db, functiontest.TableName)
	for i, user := range []string{"user-a", "user-b", "user-a"} {
		at := persona.FormatTime(time.Now().Add(time.Duration(i) * time.Millisecond))
		p := persona.Persona{ID: fmt.Sprintf("p%d", i), UserID: user, Spec: persona.Spec{Name: "n", Instructions: "i"},
			Status: persona.StatusReady, CreatedAt: at, UpdatedAt: at, TaskState: persona.TaskPublished}
		if err := store.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	fn := localawstest.StartBootstrap(t, localawstest.BuildBootstrap(t, "./lambdas/list"), env(srv.Endpoint))

	event, _ := json.Marshal(events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: persona.RouteList, RawPath: "/personas",
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/personas"},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"sub": "user-a"}},
			},
		},
	})
	res, err := fn.Invoke(ctx, event)
	if err != nil {
		t.Fatal(err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(res.Payload, &resp); err != nil || res.Failed {
		t.Fatalf("answer %s (failed %v)", res.Payload, res.Failed)
	}
	var body persona.ListResponse
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || len(body.Personas) != 2 || body.Personas[0].ID != "p2" {
		t.Fatalf("answer %d %s, want user-a's two personas, newest (p2) first", resp.StatusCode, resp.Body)
	}
}

func TestTheBootstrapWithoutItsTableLinkStopsAtInitNamingTheLink(t *testing.T) {
	bin := localawstest.BuildBootstrap(t, "./lambdas/list")
	_, err := localawstest.StartFunction(context.Background(), bin, functiontest.Unlinked(env("http://127.0.0.1:1")))
	if err == nil || !strings.Contains(err.Error(), `resource \"PersonaTable\" is not linked`) {
		t.Fatalf("err = %v, want an init failure naming the PersonaTable link", err)
	}
}

// BenchmarkInit measures the bootstrap's cold start: process start to its first
// request for an invocation.
func BenchmarkInit(b *testing.B) {
	localawstest.BenchmarkInit(b, "./lambdas/list", env("http://127.0.0.1:1"))
}
