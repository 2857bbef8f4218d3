package constructs

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/personabackend/app/topology"
)

func TestSecretNamesAreValidated(t *testing.T) {
	for _, name := range []string{"myKey", "1Key", "MY-KEY", "", "My Key"} {
		if err := ValidateSecretName(name); err == nil || !strings.Contains(err.Error(), "start with an uppercase letter") {
			t.Errorf("ValidateSecretName(%q) = %v", name, err)
		}
	}
	for _, name := range []string{"MyApiKey", "STRIPE_KEY", "K"} {
		if err := ValidateSecretName(name); err != nil {
			t.Errorf("ValidateSecretName(%q) = %v", name, err)
		}
	}
	if _, err := DeclareSecrets("shop", "dev", []string{"A", "A"}); err == nil || !strings.Contains(err.Error(), "declared twice") {
		t.Errorf("duplicate secret: %v", err)
	}
}

func TestSecretParametersNameAppStageAndSecret(t *testing.T) {
	specs, err := DeclareSecrets("shop", "alice", []string{"PaymentKey"})
	if err != nil {
		t.Fatal(err)
	}
	if specs[0].Parameter != "/shop/alice/PaymentKey" || specs[0].FallbackParameter != "/shop/_fallback/PaymentKey" {
		t.Errorf("parameters = %+v", specs[0])
	}
}

func TestNoSecretValueOrParameterEntersTerraform(t *testing.T) {
	for _, stage := range []string{"dev", "prod"} {
		s := stackFor(t, stage)
		for typ := range s.doc["resource"].(map[string]any) {
			if strings.HasPrefix(typ, "aws_ssm_") || strings.HasPrefix(typ, "aws_secretsmanager_") {
				t.Errorf("%s stack declares %s: secret values must stay out of Terraform", stage, typ)
			}
		}
	}
}

func TestSecretSetRefusesUndeclaredSecrets(t *testing.T) {
	set, err := NewSecretSet(scratchStack(t), "PaymentKey")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := set.Secret("Other"); err == nil || !strings.Contains(err.Error(), "declared: PaymentKey") {
		t.Errorf("Secret(Other) = %v", err)
	}
}

func TestAProtectedStagesFunctionsNeitherMayNorTryToReadTheFallbackValue(t *testing.T) {
	for _, tc := range []struct {
		stage    string
		fallback string // the fallback parameter the worker may read, or none
	}{
		{"dev", "/shop/_fallback/PaymentKey"},
		{"prod", ""},
	} {
		s := stackFor(t, tc.stage)
		worker := "shop-" + tc.stage + "-shipping-worker"
		policy := s.only(t, "aws_iam_role_policy", "name", worker)["policy"].(string)
		if strings.Contains(policy, "_fallback") != (tc.fallback != "") {
			t.Errorf("%s policy, with fallback %q:\n%s", worker, tc.fallback, policy)
		}
		env := s.only(t, "aws_lambda_function", "function_name", worker)["environment"].(map[string]any)["variables"].(map[string]any)
		link := decodeJSON(t, env["RESOURCE_PaymentKey"])
		if link["parameter"] != "/shop/"+tc.stage+"/PaymentKey" || link["fallbackParameter"] != tc.fallback {
			t.Errorf("%s secret link = %v, want fallback %q", worker, link, tc.fallback)
		}
		topo, err := topology.Read(filepath.Join(s.dir, topology.FileName))
		if err != nil {
			t.Fatal(err)
		}
		for _, sec := range topo.Secrets {
			if want := strings.ReplaceAll(tc.fallback, "PaymentKey", sec.Name); sec.FallbackParameter != want {
				t.Errorf("%s topology: secret %s has fallback %q, want %q", tc.stage, sec.Name, sec.FallbackParameter, want)
			}
		}
	}
}
