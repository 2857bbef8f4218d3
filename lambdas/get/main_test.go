package main

import (
	"context"
	"encoding/json"
	"net/http"
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

// getEvent is the event API Gateway sends for route GET /personas/{personaId}.
func getEvent(user, id string) []byte {
	ev, _ := json.Marshal(events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: persona.RouteGet, RawPath: "/personas/" + id,
		PathParameters: map[string]string{"personaId": id},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/personas/" + id},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"sub": user}},
			},
		},
	})
	return ev
}

func TestTheBootstrapAnswersTheCallersPersonaAndHidesOthers(t *testing.T) {
	ctx := context.Background()
	srv := localawstest.Dynalite(t)
	db := dynamodb.NewFromConfig(localawstest.Config(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(srv.Endpoint) })
	if err := localaws.CreateTable(ctx, db, functiontest.TableName, persona.TableSchema()); err != nil {
		t.Fatal(err)
	}
	store := persona.NewStore(db, functiontest.TableName)
	mine, theirs := persona.IDFor("user-a", "k1"), persona.IDFor("user-b", "k1")
	at := persona.FormatTime(time.Now())
	for id, user := range map[string]string{mine: "user-a", theirs: "user-b"} {
		p := persona.Persona{ID: id, UserID: user, Spec: persona.Spec{Name: "Guide of " + user, Instructions: "Be brief."},
			Status: persona.StatusReady, CreatedAt: at, UpdatedAt: at, TaskState: persona.TaskPublished}
		if err := store.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	fn := localawstest.StartBootstrap(t, localawstest.BuildBootstrap(t, "./lambdas/get"), env(srv.Endpoint))

	get := func(user, id string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		res, err := fn.Invoke(ctx, getEvent(user, id))
		if err != nil {
			t.Fatal(err)
		}
		var resp events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(res.Payload, &resp); err != nil || res.Failed {
			t.Fatalf("answer %s (failed %v)", res.Payload, res.Failed)
		}
		return resp
	}
	resp := get("user-a", mine)
	var body persona.GetResponse
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || resp.StatusCode != http.StatusOK || body.Persona.ID != mine || body.Persona.Name != "Guide of user-a" {
		t.Fatalf("answer %d %s, want 200 with user-a's persona %s", resp.StatusCode, resp.Body, mine)
	}
	hidden, missing := get("user-a", theirs), get("user-a", persona.IDFor("user-a", "k2"))
	if hidden.StatusCode != http.StatusNotFound || hidden.Body != missing.Body || strings.Contains(hidden.Body, "user-b") {
		t.Fatalf("another user's persona answered %d %s, want the 404 a missing one gets: %d %s",
			hidden.StatusCode, hidden.Body, missing.StatusCode, missing.Body)
	}
}

func TestTheBootstrapWithoutItsTableLinkStopsAtInitNamingTheLink(t *testing.T) {
	bin := localawstest.BuildBootstrap(t, "./lambdas/get")
	_, err := localawstest.StartFunction(context.Background(), bin, functiontest.Unlinked(env("http://127.0.0.1:1")))
	if err == nil || !strings.Contains(err.Error(), `resource \"PersonaTable\" is not linked`) {
		t.Fatalf("err = %v, want an init failure naming the PersonaTable link", err)
	}
}

// BenchmarkInit measures the bootstrap's cold start: process start to its first
// request for an invocation.
func BenchmarkInit(b *testing.B) {
	localawstest.BenchmarkInit(b, "./lambdas/get", env("http://127.0.0.1:1"))
}
