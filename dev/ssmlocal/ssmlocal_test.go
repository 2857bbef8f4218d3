package ssmlocal

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/personabackend/app/resource"
	"github.com/personabackend/app/resource/secrets"
)

type mapStore map[string]string

func (m mapStore) Get(_ context.Context, names []string) (map[string]string, error) {
	out := map[string]string{}
	for _, n := range names {
		if v, ok := m[n]; ok {
			out[n] = v
		}
	}
	return out, nil
}

func client(t *testing.T, store Getter) *ssm.Client {
	t.Helper()
	srv := httptest.NewServer(New(store, "us-east-1"))
	t.Cleanup(srv.Close)
	return ssm.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}, func(o *ssm.Options) { o.BaseEndpoint = aws.String(srv.URL) })
}

func TestHandlersReadSecretsThroughTheLocalEndpoint(t *testing.T) {
	t.Setenv(resource.EnvName("MyApiKey"), `{"kind":"secret","parameter":"/persona/dev/MyApiKey","fallbackParameter":"/persona/_fallback/MyApiKey"}`)
	t.Setenv(resource.EnvName("Other"), `{"kind":"secret","parameter":"/persona/dev/Other","fallbackParameter":"/persona/_fallback/Other"}`)
	t.Setenv(resource.EnvName("Absent"), `{"kind":"secret","parameter":"/persona/dev/Absent","fallbackParameter":"/persona/_fallback/Absent"}`)
	c := client(t, mapStore{
		"/persona/dev/MyApiKey":       "stage-value",
		"/persona/_fallback/MyApiKey": "fallback-value",
		"/persona/_fallback/Other":    "shared",
	})
	loader := secrets.NewLoader(c)
	ctx := context.Background()
	tests := []struct{ name, want string }{
		{"MyApiKey", "stage-value"},
		{"Other", "shared"},
	}
	for _, tt := range tests {
		got, err := loader.Get(ctx, tt.name)
		if err != nil || got != tt.want {
			t.Errorf("secret %s = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	if _, err := loader.Get(ctx, "Absent"); !errors.Is(err, secrets.ErrNotSet) {
		t.Errorf("a secret without any value: got %v, want ErrNotSet", err)
	}
}

func TestGetParametersListsMissingNames(t *testing.T) {
	c := client(t, mapStore{"/a": "1"})
	out, err := c.GetParameters(context.Background(), &ssm.GetParametersInput{Names: []string{"/a", "/b"}, WithDecryption: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Parameters) != 1 || *out.Parameters[0].Value != "1" || len(out.InvalidParameters) != 1 || out.InvalidParameters[0] != "/b" {
		t.Errorf("parameters %+v invalid %v", out.Parameters, out.InvalidParameters)
	}
}
