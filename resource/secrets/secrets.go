// Package secrets fetches the values of secrets linked to a function from SSM Parameter Store.
//
// Each value is fetched once per process (a Lambda cold start) and kept in memory;
// values are never logged and never appear in errors.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/personabackend/app/resource"
)

// ParameterGetter is the part of the SSM client the loader uses.
type ParameterGetter interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// Loader fetches linked secret values and caches them for the life of the process.
type Loader struct {
	client ParameterGetter

	mu     sync.Mutex
	values map[string]string
}

// NewLoader returns a Loader that reads parameters through client.
func NewLoader(client ParameterGetter) *Loader {
	return &Loader{client: client, values: map[string]string{}}
}

// ErrNotSet means the secret has no value for this stage and no fallback value.
var ErrNotSet = errors.New("secret has no value")

// Get returns the value of the linked secret named name: the stage's own value, or
// else the fallback value shared by all stages, when the link names one. A protected
// stage's link names none (its functions may not read it), so the fallback is never
// asked for there, and a missing value is reported as missing, not as access denied.
func (l *Loader) Get(ctx context.Context, name string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if v, ok := l.values[name]; ok {
		return v, nil
	}
	link, err := resource.GetSecret(name)
	if err != nil {
		return "", err
	}
	for _, param := range []string{link.Parameter, link.FallbackParameter} {
		if param == "" {
			continue
		}
		v, found, err := l.fetch(ctx, param)
		if err != nil {
			return "", fmt.Errorf("secret %q: reading parameter %s: %w", name, param, err)
		}
		if found {
			l.values[name] = v
			return v, nil
		}
	}
	_, stage := resource.App()
	return "", fmt.Errorf("secret %q (parameter %s): %w; set it with: go run . secrets set %s --stage %s",
		name, link.Parameter, ErrNotSet, name, stage)
}

func (l *Loader) fetch(ctx context.Context, param string) (value string, found bool, err error) {
	out, err := l.client.GetParameter(ctx, &ssm.GetParameterInput{
		Name:           aws.String(param),
		WithDecryption: aws.Bool(true),
	})
	var notFound *types.ParameterNotFound
	if errors.As(err, &notFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if out.Parameter == nil || out.Parameter.Value == nil {
		return "", false, nil
	}
	return *out.Parameter.Value, true, nil
}
