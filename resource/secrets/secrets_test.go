package secrets

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/personabackend/app/resource"
)

// parameters is an in-memory ParameterGetter that counts its calls. The SSM wire
// protocol itself is exercised by the secret store's tests (package secretstore).
type parameters struct {
	values map[string]string
	calls  int
}

func (p *parameters) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	p.calls++
	if !aws.ToBool(in.WithDecryption) {
		return nil, errors.New("asked without decryption")
	}
	v, ok := p.values[aws.ToString(in.Name)]
	if !ok {
		return nil, &types.ParameterNotFound{Message: aws.String("not found")}
	}
	return &ssm.GetParameterOutput{Parameter: &types.Parameter{Value: aws.String(v)}}, nil
}

func linkSecret(t *testing.T) {
	t.Setenv(resource.EnvStage, "alice")
	t.Setenv(resource.EnvName("ApiKey"), `{"kind":"secret","parameter":"/shop/alice/ApiKey","fallbackParameter":"/shop/_fallback/ApiKey"}`)
}

func TestTheStageValueWinsAndIsFetchedOncePerProcess(t *testing.T) {
	linkSecret(t)
	ssm := &parameters{values: map[string]string{"/shop/alice/ApiKey": "stage-value", "/shop/_fallback/ApiKey": "shared"}}
	l := NewLoader(ssm)
	for i := 0; i < 3; i++ {
		v, err := l.Get(context.Background(), "ApiKey")
		if err != nil || v != "stage-value" {
			t.Fatalf("Get = %q, %v", v, err)
		}
	}
	if ssm.calls != 1 {
		t.Errorf("SSM was called %d times, want once", ssm.calls)
	}
}

func TestTheFallbackValueServesAStageWithoutItsOwn(t *testing.T) {
	linkSecret(t)
	v, err := NewLoader(&parameters{values: map[string]string{"/shop/_fallback/ApiKey": "shared"}}).Get(context.Background(), "ApiKey")
	if err != nil || v != "shared" {
		t.Errorf("Get = %q, %v", v, err)
	}
}

func TestAnUnsetSecretSaysHowToSetItWithoutAValue(t *testing.T) {
	linkSecret(t)
	_, err := NewLoader(&parameters{}).Get(context.Background(), "ApiKey")
	if !errors.Is(err, ErrNotSet) || !strings.Contains(err.Error(), "secrets set ApiKey --stage alice") {
		t.Errorf("err = %v", err)
	}
	if _, err := NewLoader(&parameters{}).Get(context.Background(), "Other"); err == nil || !strings.Contains(err.Error(), "not linked") {
		t.Errorf("unlinked secret: %v", err)
	}
}

// asked records the parameters the loader asks for.
type asked struct {
	parameters
	names []string
}

func (a *asked) GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	a.names = append(a.names, aws.ToString(in.Name))
	return a.parameters.GetParameter(ctx, in, optFns...)
}

func TestAProtectedStagesLinkNamesNoFallbackSoItIsNeverAskedFor(t *testing.T) {
	t.Setenv(resource.EnvStage, "prod")
	t.Setenv(resource.EnvName("ApiKey"), `{"kind":"secret","parameter":"/shop/prod/ApiKey","fallbackParameter":""}`)
	ssm := &asked{parameters: parameters{values: map[string]string{"/shop/_fallback/ApiKey": "shared"}}}
	_, err := NewLoader(ssm).Get(context.Background(), "ApiKey")
	if !errors.Is(err, ErrNotSet) || !strings.Contains(err.Error(), "secrets set ApiKey --stage prod") {
		t.Errorf("err = %v, want ErrNotSet naming the command that sets prod's value", err)
	}
	if strings.Join(ssm.names, ",") != "/shop/prod/ApiKey" {
		t.Errorf("asked SSM for %v, want the stage's parameter alone", ssm.names)
	}
}
