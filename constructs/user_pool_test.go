package constructs

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/personabackend/app/topology"
)

func TestUserPoolUsernamesAreEmailsWhateverTheirCaseOnTheLiteTier(t *testing.T) {
	for _, stage := range []string{"dev", "prod"} {
		pool := stackFor(t, stage).only(t, "aws_cognito_user_pool", "name", "shop-"+stage+"-customers")
		if c, _ := pool["username_configuration"].(map[string]any); c["case_sensitive"] != false {
			t.Errorf("%s: username_configuration = %v, want case_sensitive false: it cannot change once the pool exists", stage, pool["username_configuration"])
		}
		if pool["user_pool_tier"] != "LITE" {
			t.Errorf("%s: tier %v, want LITE, named rather than AWS's default", stage, pool["user_pool_tier"])
		}
		if attrs, _ := pool["username_attributes"].([]any); len(attrs) != 1 || attrs[0] != "email" {
			t.Errorf("%s: username attributes %v", stage, attrs)
		}
		policy := pool["password_policy"].(map[string]any)
		if policy["minimum_length"] != float64(PasswordMinimumLength) || policy["require_lowercase"] != true || policy["require_uppercase"] != true || policy["require_numbers"] != true || policy["require_symbols"] != false {
			t.Errorf("%s: password policy %v", stage, policy)
		}
	}
}

func TestProdOffersTOTPSignInAndDevDoesNot(t *testing.T) {
	prod := stackFor(t, "prod").only(t, "aws_cognito_user_pool", "name", "shop-prod-customers")
	if prod["mfa_configuration"] != "OPTIONAL" || prod["software_token_mfa_configuration"].(map[string]any)["enabled"] != true {
		t.Errorf("prod MFA = %v, %v: want OPTIONAL with TOTP", prod["mfa_configuration"], prod["software_token_mfa_configuration"])
	}
	dev := stackFor(t, "dev").only(t, "aws_cognito_user_pool", "name", "shop-dev-customers")
	if dev["mfa_configuration"] != "OFF" || dev["software_token_mfa_configuration"] != nil {
		t.Errorf("dev MFA = %v, %v: want OFF", dev["mfa_configuration"], dev["software_token_mfa_configuration"])
	}
}

func TestAStageWithAnEmailSenderSendsThroughSESAndOthersThroughCognito(t *testing.T) {
	prod := stackFor(t, "prod").only(t, "aws_cognito_user_pool", "name", "shop-prod-customers")
	email, _ := prod["email_configuration"].(map[string]any)
	if email["email_sending_account"] != "DEVELOPER" || email["from_email_address"] != testEmailSender.From ||
		email["source_arn"] != testEmailSender.SESIdentityARN || email["reply_to_email_address"] != testEmailSender.ReplyTo {
		t.Errorf("prod email = %v, want SES from %+v", email, testEmailSender)
	}
	if dev := stackFor(t, "dev").only(t, "aws_cognito_user_pool", "name", "shop-dev-customers"); dev["email_configuration"] != nil {
		t.Errorf("dev email = %v, want Cognito's own sender", dev["email_configuration"])
	}
}

func TestAProtectedStagesPoolAndAppClientCannotBeDestroyed(t *testing.T) {
	for stage, protected := range map[string]bool{"dev": false, "prod": true} {
		s := stackFor(t, stage)
		pool := s.only(t, "aws_cognito_user_pool", "name", "shop-"+stage+"-customers")
		client := s.only(t, "aws_cognito_user_pool_client", "name", "shop-"+stage+"-customers-client")
		for what, r := range map[string]map[string]any{"pool": pool, "client": client} {
			lifecycle, _ := r["lifecycle"].(map[string]any)
			if (lifecycle["prevent_destroy"] == true) != protected {
				t.Errorf("%s %s: lifecycle %v, want prevent_destroy %v", stage, what, lifecycle, protected)
			}
		}
		if (pool["deletion_protection"] == "ACTIVE") != protected {
			t.Errorf("%s pool: deletion_protection %v", stage, pool["deletion_protection"])
		}
	}
}

func TestUserPoolRefusesATierCognitoDoesNotHave(t *testing.T) {
	if _, err := NewUserPool(scratchStack(t), "Users", UserPoolProps{Tier: "FREE"}); err == nil || !strings.Contains(err.Error(), "LITE, ESSENTIALS or PLUS") {
		t.Errorf("NewUserPool = %v", err)
	}
}

// The dev mode creates its local pool from the topology, so the topology must say
// exactly what the Terraform declares.
func TestTheTopologyDescribesTheUserPoolAndClientAsTerraformDeclaresThem(t *testing.T) {
	s := stackFor(t, "dev")
	topo, err := topology.Read(filepath.Join(s.dir, topology.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if len(topo.UserPools) != 1 {
		t.Fatalf("topology user pools = %+v, want the one declared", topo.UserPools)
	}
	spec := topo.UserPools[0]
	pool := s.only(t, "aws_cognito_user_pool", "name", spec.Name)
	policy := pool["password_policy"].(map[string]any)
	client := s.only(t, "aws_cognito_user_pool_client", "name", spec.Client.Name)
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"username attributes", pool["username_attributes"], toAny(spec.UsernameAttributes)},
		{"auto-verified attributes", pool["auto_verified_attributes"], toAny(spec.AutoVerifiedAttributes)},
		{"admin-only sign-up", pool["admin_create_user_config"].(map[string]any)["allow_admin_create_user_only"], spec.AdminCreateUserOnly},
		{"case-sensitive usernames", pool["username_configuration"].(map[string]any)["case_sensitive"], spec.UsernamesCaseSensitive},
		{"MFA", pool["mfa_configuration"], spec.MFA},
		{"minimum length", policy["minimum_length"], float64(spec.PasswordPolicy.MinimumLength)},
		{"lowercase", policy["require_lowercase"], spec.PasswordPolicy.RequireLowercase},
		{"uppercase", policy["require_uppercase"], spec.PasswordPolicy.RequireUppercase},
		{"numbers", policy["require_numbers"], spec.PasswordPolicy.RequireNumbers},
		{"symbols", policy["require_symbols"], spec.PasswordPolicy.RequireSymbols},
		{"client flows", client["explicit_auth_flows"], toAny(spec.Client.ExplicitAuthFlows)},
		{"client secret", client["generate_secret"], spec.Client.GenerateSecret},
		{"user existence errors", client["prevent_user_existence_errors"] == "ENABLED", spec.Client.PreventUserExistenceErrors},
		{"token revocation", client["enable_token_revocation"], spec.Client.EnableTokenRevocation},
	} {
		if !equalJSON(c.got, c.want) {
			t.Errorf("%s: Terraform %v, topology %v", c.what, c.got, c.want)
		}
	}
	if spec.PasswordPolicy.MinimumLength < 8 || !spec.Client.PreventUserExistenceErrors || spec.Client.GenerateSecret {
		t.Errorf("the pool %+v is not the one people sign in to from a browser", spec)
	}
}

func toAny(list []string) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = s
	}
	return out
}

func equalJSON(a, b any) bool {
	as, aok := a.([]any)
	bs, bok := b.([]any)
	if aok && bok {
		if len(as) != len(bs) {
			return false
		}
		for i := range as {
			if as[i] != bs[i] {
				return false
			}
		}
		return true
	}
	return a == b
}

// The dev mode serves the stack's sites and answers browsers as the API's CORS
// says, with each site's local origin in place of its deployed one.
func TestTheTopologyNamesTheSitesAndTheOriginsTheAPIAllows(t *testing.T) {
	topo, err := topology.Read(filepath.Join(stackFor(t, "dev").dir, topology.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if len(topo.Sites) != 1 || topo.Sites[0].ID != "Storefront" || topo.Sites[0].Path != "constructs/testdata/site" ||
		len(topo.Sites[0].ImmutablePaths) != 1 || topo.Sites[0].ImmutablePaths[0] != "_next/static/" {
		t.Errorf("sites = %+v, want the Storefront site", topo.Sites)
	}
	cors := topo.CORS
	if cors == nil {
		t.Fatal("no CORS in the topology")
	}
	if len(cors.AllowSites) != 1 || cors.AllowSites[0] != "Storefront" || len(cors.AllowOrigins) != 1 || cors.AllowOrigins[0] != "http://localhost:3001" {
		t.Errorf("allowed sites %v and origins %v, want Storefront and http://localhost:3001", cors.AllowSites, cors.AllowOrigins)
	}
	if cors.MaxAgeSeconds != 3600 || len(cors.AllowMethods) == 0 || len(cors.AllowHeaders) == 0 {
		t.Errorf("cors = %+v", cors)
	}
}
