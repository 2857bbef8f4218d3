package localawstest

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

func TestMotoServesSecureStringParameters(t *testing.T) {
	srv := Moto(t)
	ctx := context.Background()
	client := ssm.NewFromConfig(Config(), func(o *ssm.Options) { o.BaseEndpoint = aws.String(srv.Endpoint) })
	if _, err := client.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String("/app/dev/Key"), Value: aws.String("v4lue"), Type: ssmtypes.ParameterTypeSecureString,
	}); err != nil {
		t.Fatal(err)
	}
	out, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/dev/Key"), WithDecryption: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.Parameter.Value); got != "v4lue" {
		t.Fatalf("value = %q, want v4lue", got)
	}
}

func TestResetMotoForgetsWhatTestsStored(t *testing.T) {
	srv := Moto(t)
	ctx := context.Background()
	client := ssm.NewFromConfig(Config(), func(o *ssm.Options) { o.BaseEndpoint = aws.String(srv.Endpoint) })
	if _, err := client.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String("/app/dev/Key"), Value: aws.String("v"), Type: ssmtypes.ParameterTypeSecureString,
	}); err != nil {
		t.Fatal(err)
	}
	if err := ResetMoto(ctx, srv); err != nil {
		t.Fatal(err)
	}
	var notFound *ssmtypes.ParameterNotFound
	if _, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/app/dev/Key")}); !errors.As(err, &notFound) {
		t.Fatalf("after a reset GetParameter = %v, want ParameterNotFound", err)
	}
}
