package secretstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// SSMClient is the part of the SSM client the store uses.
type SSMClient interface {
	GetParameters(ctx context.Context, in *ssm.GetParametersInput, optFns ...func(*ssm.Options)) (*ssm.GetParametersOutput, error)
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	DeleteParameter(ctx context.Context, in *ssm.DeleteParameterInput, optFns ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error)
}

// SSM keeps values as SecureString parameters in SSM Parameter Store.
type SSM struct {
	client SSMClient
}

// NewSSM returns a store that reads and writes parameters through client.
func NewSSM(client SSMClient) *SSM { return &SSM{client: client} }

// getParametersLimit is the most names one GetParameters call accepts.
const getParametersLimit = 10

// Get implements Store.
func (s *SSM) Get(ctx context.Context, parameters []string) (map[string]string, error) {
	out := map[string]string{}
	err := s.getParameters(ctx, parameters, true, func(p types.Parameter) {
		if p.Name != nil && p.Value != nil {
			out[*p.Name] = *p.Value
		}
	})
	return out, err
}

// Present implements Store. It reads the parameters without decryption, so it needs
// ssm:GetParameters alone, never kms:Decrypt, and no value is decrypted.
func (s *SSM) Present(ctx context.Context, parameters []string) (map[string]bool, error) {
	out := map[string]bool{}
	err := s.getParameters(ctx, parameters, false, func(p types.Parameter) {
		if p.Name != nil {
			out[*p.Name] = true
		}
	})
	return out, err
}

// getParameters calls each with every parameter of parameters that is set, read in
// batches of the most GetParameters accepts.
func (s *SSM) getParameters(ctx context.Context, parameters []string, decrypt bool, each func(types.Parameter)) error {
	for start := 0; start < len(parameters); start += getParametersLimit {
		batch := parameters[start:min(start+getParametersLimit, len(parameters))]
		res, err := s.client.GetParameters(ctx, &ssm.GetParametersInput{
			Names:          batch,
			WithDecryption: aws.Bool(decrypt),
		})
		if err != nil {
			return fmt.Errorf("reading secrets from SSM Parameter Store: %w", err)
		}
		for _, p := range res.Parameters {
			each(p)
		}
	}
	return nil
}

// Put implements Store. SSM has no transactions, so parameters are written one at a time,
// in name order; if one fails, the error names the parameters already written (they stay
// written) and those not written.
func (s *SSM) Put(ctx context.Context, values map[string]string) error {
	names := slices.Sorted(maps.Keys(values))
	for i, name := range names {
		_, err := s.client.PutParameter(ctx, &ssm.PutParameterInput{
			Name:      aws.String(name),
			Value:     aws.String(values[name]),
			Type:      types.ParameterTypeSecureString,
			Overwrite: aws.Bool(true),
		})
		if err != nil {
			written := "none"
			if i > 0 {
				written = strings.Join(names[:i], ", ")
			}
			return fmt.Errorf("writing SSM parameter %s: %w\nalready written: %s\nnot written: %s",
				name, err, written, strings.Join(names[i:], ", "))
		}
	}
	return nil
}

// Delete implements Store.
func (s *SSM) Delete(ctx context.Context, parameter string) (bool, error) {
	_, err := s.client.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(parameter)})
	var notFound *types.ParameterNotFound
	if errors.As(err, &notFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("deleting SSM parameter %s: %w", parameter, err)
	}
	return true, nil
}
