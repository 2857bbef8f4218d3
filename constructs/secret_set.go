package constructs

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/personabackend/app/topology"
)

var secretNamePattern = regexp.MustCompile(`^[A-Z][A-Za-z0-9_]*$`)

// fallbackStage names the parameters used by any stage that has no value of its own.
// Stage names cannot contain "_", so it never collides with a stage.
const fallbackStage = "_fallback"

// ValidateSecretName checks a secret's name.
func ValidateSecretName(name string) error {
	if !secretNamePattern.MatchString(name) {
		return fmt.Errorf("invalid secret name %q: start with an uppercase letter, then letters, digits or underscores (for example MyApiKey)", name)
	}
	return nil
}

// SecretParameterName is the SSM parameter holding a stage's value of a secret.
func SecretParameterName(app, stage, name string) string {
	return "/" + app + "/" + stage + "/" + name
}

// FallbackParameterName is the SSM parameter holding the value any stage without its own uses.
func FallbackParameterName(app, name string) string {
	return SecretParameterName(app, fallbackStage, name)
}

// DeclareSecrets returns the topology of the named secrets for a stage, without
// creating anything: what the secrets commands need, with no Terraform involved.
func DeclareSecrets(app, stage string, names []string) ([]topology.Secret, error) {
	seen := map[string]bool{}
	var out []topology.Secret
	for _, name := range names {
		if err := ValidateSecretName(name); err != nil {
			return nil, err
		}
		if seen[name] {
			return nil, fmt.Errorf("secret %q is declared twice", name)
		}
		seen[name] = true
		out = append(out, topology.Secret{
			Name:              name,
			Parameter:         SecretParameterName(app, stage, name),
			FallbackParameter: FallbackParameterName(app, name),
		})
	}
	return out, nil
}

// SecretSet declares the secrets of a stage. Their values live in SSM Parameter Store
// as SecureStrings, set with the secrets commands; Terraform never sees a value:
// the set creates no parameter, it only lets linked functions read theirs.
type SecretSet struct {
	stack   *Stack
	secrets map[string]*Secret
	names   []string
}

// Secret is one declared secret; link it to a function with Read access.
type Secret struct {
	stack *Stack
	spec  topology.Secret
}

// NewSecretSet declares secrets by name.
func NewSecretSet(stack *Stack, names ...string) (*SecretSet, error) {
	specs, err := DeclareSecrets(stack.app.name, stack.stage.Name, names)
	if err != nil {
		return nil, err
	}
	set := &SecretSet{stack: stack, secrets: map[string]*Secret{}}
	for _, spec := range specs {
		if stack.stage.Protected {
			// A protected stage runs on its own values only: its functions may not read
			// the fallback, and the topology says it has none.
			spec.FallbackParameter = ""
		}
		set.secrets[spec.Name] = &Secret{stack: stack, spec: spec}
		set.names = append(set.names, spec.Name)
		stack.topo.Secrets = append(stack.topo.Secrets, spec)
	}
	return set, nil
}

// Names lists the declared secrets in declaration order.
func (s *SecretSet) Names() []string { return append([]string(nil), s.names...) }

// Secret returns the declared secret called name.
func (s *SecretSet) Secret(name string) (*Secret, error) {
	if sec, ok := s.secrets[name]; ok {
		return sec, nil
	}
	return nil, fmt.Errorf("secret %q is not declared; declared: %s", name, strings.Join(s.names, ", "))
}

// LinkName is the secret's name.
func (s *Secret) LinkName() string { return s.spec.Name }

// Parameter is the SSM parameter holding this stage's value.
func (s *Secret) Parameter() string { return s.spec.Parameter }

// Link grants read access: ssm:GetParameter on the stage's parameter and, except on a
// protected stage, the fallback parameter, and decryption through SSM of just those.
func (s *Secret) Link(access Access) (LinkGrant, error) {
	if access != Read {
		return LinkGrant{}, unsupportedAccess("secret", s.spec.Name, access, string(Read))
	}
	params := []ARN{s.stack.arn("ssm", "parameter"+s.spec.Parameter)}
	if s.spec.FallbackParameter != "" {
		params = append(params, s.stack.arn("ssm", "parameter"+s.spec.FallbackParameter))
	}
	return LinkGrant{
		Properties: s.spec.LinkProperties(),
		Statements: []Statement{
			{Actions: []string{"ssm:GetParameter"}, Resources: params},
			{
				Actions:   []string{"kms:Decrypt"},
				Resources: []ARN{s.stack.arn("kms", "key/*")},
				Conditions: []Condition{
					{Operator: "StringEquals", Key: "kms:ViaService", Values: []string{fmt.Sprintf("ssm.%s.amazonaws.com", s.stack.app.region)}},
					{Operator: "StringEquals", Key: "kms:EncryptionContext:PARAMETER_ARN", ARNs: params},
				},
			},
		},
	}, nil
}
