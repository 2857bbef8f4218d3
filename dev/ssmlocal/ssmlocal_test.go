package ssmlocal

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/personabackend/app/dev/iam"

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
	srv := httptest.NewServer(New(SecureStrings(store), "us-east-1"))
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

// params is a fixed set of typed parameters.
type params map[string]Parameter

func (p params) Parameters(_ context.Context, names []string) (map[string]Parameter, error) {
	out := map[string]Parameter{}
	for _, n := range names {
		if v, ok := p[n]; ok {
			out[n] = v
		}
	}
	return out, nil
}

func serve(t *testing.T, src Source, opts ...Option) (*httptest.Server, aws.Config) {
	t.Helper()
	srv := httptest.NewServer(New(src, "us-east-1", opts...))
	t.Cleanup(srv.Close)
	return srv, aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
}

func TestParametersAnswerTheTypeTheyAreStoredWith(t *testing.T) {
	srv, cfg := serve(t, params{
		"/app/colour": {Name: "/app/colour", Type: String, Value: "blue", Version: 3},
		"/app/list":   {Name: "/app/list", Type: StringList, Value: "a,b"},
		"/app/key":    {Name: "/app/key", Type: SecureString, Value: "s3cret"},
	})
	c := ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()
	tests := []struct {
		name, param string
		decrypt     bool
		wantType    string
		wantValue   string
	}{
		{"a String", "/app/colour", false, "String", "blue"},
		{"a StringList", "/app/list", false, "StringList", "a,b"},
		{"a SecureString with decryption", "/app/key", true, "SecureString", "s3cret"},
	}
	for _, tt := range tests {
		out, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(tt.param), WithDecryption: aws.Bool(tt.decrypt)})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if string(out.Parameter.Type) != tt.wantType || *out.Parameter.Value != tt.wantValue {
			t.Errorf("%s: got %s %q, want %s %q", tt.name, out.Parameter.Type, *out.Parameter.Value, tt.wantType, tt.wantValue)
		}
	}
	out, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/colour")})
	if err != nil {
		t.Fatal(err)
	}
	if out.Parameter.Version != 3 || *out.Parameter.ARN != "arn:aws:ssm:us-east-1:000000000000:parameter/app/colour" {
		t.Errorf("version %d, ARN %s", out.Parameter.Version, *out.Parameter.ARN)
	}
}

func TestASecureStringReadWithoutDecryptionNeverAnswersThePlaintext(t *testing.T) {
	srv, cfg := serve(t, params{"/app/key": {Name: "/app/key", Type: SecureString, Value: "s3cret"}})
	c := ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	read := func() string {
		out, err := c.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/app/key")})
		if err != nil {
			t.Fatal(err)
		}
		return *out.Parameter.Value
	}
	first := read()
	if strings.Contains(first, "s3cret") || first == "" {
		t.Errorf("value without decryption = %q, want an opaque ciphertext", first)
	}
	if again := read(); again != first {
		t.Errorf("the ciphertext changed between reads: %q, then %q", first, again)
	}
}

func TestGetParametersTakesAtMostTenNames(t *testing.T) {
	srv, cfg := serve(t, params{})
	c := ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	names := make([]string, 11)
	for i := range names {
		names[i] = fmt.Sprintf("/p/%d", i)
	}
	_, err := c.GetParameters(context.Background(), &ssm.GetParametersInput{Names: names})
	var invalid *types.ValidationException
	if !errors.As(err, &invalid) || !strings.Contains(err.Error(), "less than or equal to 10") {
		t.Errorf("got %v, want ValidationException naming the limit of 10", err)
	}
}

func TestAFunctionReadsOnlyTheParametersItsPolicyAllows(t *testing.T) {
	policy, err := iam.NewPolicy([]iam.Statement{
		{Effect: iam.Allow, Actions: []string{"ssm:GetParameter"}, Resources: []string{"arn:aws:ssm:us-east-1:000000000000:parameter/app/key"}},
		{Effect: iam.Allow, Actions: []string{"kms:Decrypt"}, Resources: []string{"arn:aws:kms:us-east-1:000000000000:key/*"}, Conditions: []iam.Condition{
			{Operator: "StringEquals", Key: "kms:ViaService", Values: []string{"ssm.us-east-1.amazonaws.com"}},
			{Operator: "StringEquals", Key: "kms:EncryptionContext:PARAMETER_ARN", Values: []string{"arn:aws:ssm:us-east-1:000000000000:parameter/app/key"}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	authz := iam.NewAuthorizer(nil)
	authz.Add("ASIAWORKER", iam.Principal{Name: "worker", ARN: "arn:aws:sts::000000000000:assumed-role/worker/worker", Policy: policy})
	srv, _ := serve(t, params{
		"/app/key":   {Name: "/app/key", Type: SecureString, Value: "s3cret"},
		"/app/other": {Name: "/app/other", Type: SecureString, Value: "no"},
	}, WithAuthorizer(authz))
	c := ssm.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("ASIAWORKER", "s", "t")},
		func(o *ssm.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()
	if _, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/key"), WithDecryption: aws.Bool(true)}); err != nil {
		t.Fatalf("the allowed parameter: %v", err)
	}
	for _, name := range []string{"/app/other", "/app/absent"} {
		_, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
		want := "is not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:us-east-1:000000000000:parameter" + name + " because no identity-based policy allows the ssm:GetParameter action"
		var re *smithyhttp.ResponseError
		if !strings.Contains(fmt.Sprint(err), "AccessDeniedException") || !strings.Contains(fmt.Sprint(err), want) || !errors.As(err, &re) || re.HTTPStatusCode() != 400 {
			t.Errorf("%s: got %v, want AccessDeniedException (400) saying %q", name, err, want)
		}
	}
	if _, err := c.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/app/key"}}); !strings.Contains(fmt.Sprint(err), "ssm:GetParameters") {
		t.Errorf("GetParameters, which the policy does not grant: got %v, want AccessDeniedException", err)
	}
	if unused := authz.Unused(); len(unused) != 0 {
		t.Errorf("after reading and decrypting the parameter, unused grants %+v", unused)
	}
}
