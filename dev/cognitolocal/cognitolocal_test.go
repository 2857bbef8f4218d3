package cognitolocal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/personabackend/app/dev/apigw"
	"github.com/personabackend/app/internal/localaws/localawstest"
	"github.com/personabackend/app/topology"
)

// spec is a pool shaped like the one the persona stack declares.
var spec = topology.UserPool{
	Name:                   "persona-local-users",
	UsernameAttributes:     []string{"email"},
	AutoVerifiedAttributes: []string{"email"},
	AdminCreateUserOnly:    true,
	MFA:                    "OFF",
	PasswordPolicy:         topology.PasswordPolicy{MinimumLength: 12, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true},
	Client: topology.UserPoolClient{
		Name:                       "persona-local-users-client",
		ExplicitAuthFlows:          []string{"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
		PreventUserExistenceErrors: true,
		EnableTokenRevocation:      true,
	},
}

func startPool(t *testing.T) *Pool {
	t.Helper()
	return startPoolOf(t, spec)
}

func startPoolOf(t *testing.T, spec topology.UserPool) *Pool {
	t.Helper()
	p, err := Start(context.Background(), "us-east-1", spec)
	if errors.Is(err, ErrMotoMissing) {
		localawstest.SkipOrFail(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func TestThePoolAndClientAreCreatedAsTheStackDeclaresThem(t *testing.T) {
	p := startPool(t)
	ctx := context.Background()
	client := p.Client()
	pool, err := client.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(p.PoolID)})
	if err != nil {
		t.Fatal(err)
	}
	policy := pool.UserPool.Policies.PasswordPolicy
	if aws.ToString(pool.UserPool.Name) != spec.Name || aws.ToInt32(policy.MinimumLength) != 12 || !policy.RequireUppercase || policy.RequireSymbols ||
		!pool.UserPool.AdminCreateUserConfig.AllowAdminCreateUserOnly || !slices.Equal(pool.UserPool.UsernameAttributes, []ciptypes.UsernameAttributeType{"email"}) {
		t.Errorf("pool = %+v, policy %+v", pool.UserPool, policy)
	}
	if !strings.HasPrefix(p.PoolID, "us-east-1_") {
		t.Errorf("pool id %q is not a Cognito pool id of us-east-1", p.PoolID)
	}
	c, err := client.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(p.PoolID), ClientId: aws.String(p.ClientID)})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.UserPoolClient.ExplicitAuthFlows; !slices.Equal(got, []ciptypes.ExplicitAuthFlowsType{"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}) || c.UserPoolClient.ClientSecret != nil {
		t.Errorf("client flows %v, secret %v", got, c.UserPoolClient.ClientSecret)
	}
}

func TestThePoolHasTheDeployedPoolsUsernameCaseAndMFASettings(t *testing.T) {
	withMFA := spec
	withMFA.MFA = "OPTIONAL"
	p := startPoolOf(t, withMFA)
	ctx := context.Background()
	client := p.Client()
	pool, err := client.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(p.PoolID)})
	if err != nil {
		t.Fatal(err)
	}
	if c := pool.UserPool.UsernameConfiguration; c == nil || aws.ToBool(c.CaseSensitive) {
		t.Errorf("username configuration %+v, want usernames that are not case sensitive", c)
	}
	mfa, err := client.GetUserPoolMfaConfig(ctx, &cip.GetUserPoolMfaConfigInput{UserPoolId: aws.String(p.PoolID)})
	if err != nil {
		t.Fatal(err)
	}
	if mfa.MfaConfiguration != ciptypes.UserPoolMfaTypeOptional || mfa.SoftwareTokenMfaConfiguration == nil || !mfa.SoftwareTokenMfaConfiguration.Enabled {
		t.Errorf("MFA %s with TOTP %+v, want OPTIONAL with TOTP apps", mfa.MfaConfiguration, mfa.SoftwareTokenMfaConfiguration)
	}
}

// adminUser creates a user as the users command does and signs in with its
// temporary password through a second client that allows password sign-in (the
// stack's client allows SRP alone), returning the sign-in's first answer.
func adminUser(t *testing.T, p *Pool, email, password string) (*cip.AdminInitiateAuthOutput, string) {
	t.Helper()
	ctx := context.Background()
	client := p.Client()
	if _, err := client.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(p.PoolID), Username: aws.String(email), TemporaryPassword: aws.String(password),
		MessageAction:  ciptypes.MessageActionTypeSuppress,
		UserAttributes: []ciptypes.AttributeType{{Name: aws.String("email"), Value: aws.String(email)}, {Name: aws.String("email_verified"), Value: aws.String("true")}},
	}); err != nil {
		t.Fatal(err)
	}
	admin, err := client.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(p.PoolID), ClientName: aws.String("admin-password-sign-in"),
		ExplicitAuthFlows: []ciptypes.ExplicitAuthFlowsType{"ALLOW_ADMIN_USER_PASSWORD_AUTH"},
	})
	if err != nil {
		t.Fatal(err)
	}
	adminClient := aws.ToString(admin.UserPoolClient.ClientId)
	out, err := client.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{
		UserPoolId: aws.String(p.PoolID), ClientId: aws.String(adminClient), AuthFlow: ciptypes.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": email, "PASSWORD": password},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, adminClient
}

func TestTheNewPasswordChallengeCarriesTheParametersCognitoSends(t *testing.T) {
	p := startPool(t)
	out, _ := adminUser(t, p, "ada@example.com", "Temporary-Pass1")
	if out.ChallengeName != ciptypes.ChallengeNameTypeNewPasswordRequired {
		t.Fatalf("challenge = %q, want NEW_PASSWORD_REQUIRED for a user an administrator created", out.ChallengeName)
	}
	if out.ChallengeParameters["userAttributes"] != "{}" || out.ChallengeParameters["requiredAttributes"] != "[]" {
		t.Errorf("challenge parameters = %v, want userAttributes and requiredAttributes as JSON", out.ChallengeParameters)
	}
}

// A new password is checked against the pool's policy as the stack declares it: the
// answer to NEW_PASSWORD_REQUIRED is the call the page makes when a user first signs
// in, and Cognito refuses a password its policy does not allow with
// InvalidPasswordException.
func TestANewPasswordIsCheckedAgainstThePolicyTheStackDeclares(t *testing.T) {
	withSymbols := spec
	withSymbols.PasswordPolicy.RequireSymbols = true
	pools := map[bool]*Pool{false: startPool(t), true: startPoolOf(t, withSymbols)}
	tests := []struct {
		name           string
		requireSymbols bool
		password       string
		accepted       bool
	}{
		{"a password without a symbol is taken where the policy asks for none", false, "Newpassw0rdGood", true},
		{"a password without a symbol is refused where the policy asks for one", true, "Newpassw0rdGood", false},
		{"a password with a symbol is taken where the policy asks for one", true, "Newpassw0rd-Good", true},
		{"a password shorter than the minimum is refused", false, "Shortpassw0", false},
		{"a password without a digit is refused", false, "Newpassword-Good", false},
		{"a password without an uppercase letter is refused", false, "newpassw0rd-good", false},
		{"a password without a lowercase letter is refused", false, "NEWPASSW0RD-GOOD", false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pools[tt.requireSymbols]
			email := fmt.Sprintf("user%d@example.com", i)
			first, client := adminUser(t, p, email, "Temporary-Pass1")
			done, err := p.Client().RespondToAuthChallenge(context.Background(), &cip.RespondToAuthChallengeInput{
				ClientId: aws.String(client), Session: first.Session, ChallengeName: ciptypes.ChallengeNameTypeNewPasswordRequired,
				ChallengeResponses: map[string]string{"USERNAME": email, "NEW_PASSWORD": tt.password},
			})
			var invalid *ciptypes.InvalidPasswordException
			switch {
			case tt.accepted && err != nil:
				t.Errorf("%q was refused: %v", tt.password, err)
			case tt.accepted && done.AuthenticationResult == nil:
				t.Errorf("%q was taken but the user is not signed in: %+v", tt.password, done)
			case !tt.accepted && !errors.As(err, &invalid):
				t.Errorf("%q: got %v, want InvalidPasswordException", tt.password, err)
			}
		})
	}
}

// The local API trusts the local pool's tokens for its client, and no other client's.
func TestThePoolsTokensPassTheLocalAPIsAuthorizerForItsClientOnly(t *testing.T) {
	p := startPool(t)
	ctx := context.Background()
	first, adminClient := adminUser(t, p, "ada@example.com", "Temporary-Pass1")
	done, err := p.Client().AdminRespondToAuthChallenge(ctx, &cip.AdminRespondToAuthChallengeInput{
		UserPoolId: aws.String(p.PoolID), ClientId: aws.String(adminClient), Session: first.Session,
		ChallengeName:      ciptypes.ChallengeNameTypeNewPasswordRequired,
		ChallengeResponses: map[string]string{"USERNAME": "ada@example.com", "NEW_PASSWORD": "Chosen-Password2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	access := aws.ToString(done.AuthenticationResult.AccessToken)
	id := aws.ToString(done.AuthenticationResult.IdToken)

	forAdminClient := apigw.NewJWTAuthorizer(p.Issuer(), []string{adminClient}, p.JWKSURL())
	claims, _, err := forAdminClient.Authorize(ctx, "Bearer "+access, apigw.Trust{})
	if err != nil {
		t.Fatalf("the pool's access token: %v", err)
	}
	if claims["sub"] == "" || claims["client_id"] != adminClient || claims["token_use"] != "access" {
		t.Errorf("claims = %v", claims)
	}
	if _, _, err := forAdminClient.Authorize(ctx, "Bearer "+id, apigw.Trust{}); err != nil {
		t.Errorf("the pool's ID token: %v", err)
	}
	forStackClient := apigw.NewJWTAuthorizer(p.Issuer(), []string{p.ClientID}, p.JWKSURL())
	if _, _, err := forStackClient.Authorize(ctx, "Bearer "+access, apigw.Trust{}); !errors.Is(err, apigw.ErrUnauthorized) {
		t.Errorf("a token of another client of the pool was accepted: %v", err)
	}
}

func TestARunningPoolIsFoundThroughItsRecordAndAStoppedOneIsNot(t *testing.T) {
	p := startPool(t)
	dir := t.TempDir()
	ctx := context.Background()
	if _, err := ReadRecord(ctx, dir); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("without a record: %v, want ErrNotRunning", err)
	}
	if err := WriteRecord(dir, p.Record); err != nil {
		t.Fatal(err)
	}
	got, err := ReadRecord(ctx, dir)
	if err != nil || got != p.Record {
		t.Fatalf("ReadRecord = %+v, %v; want %+v", got, err, p.Record)
	}
	p.Close()
	if _, err := ReadRecord(ctx, dir); !errors.Is(err, ErrNotRunning) {
		t.Errorf("after the pool stopped: %v, want ErrNotRunning", err)
	}
	if err := RemoveRecord(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRecord(ctx, dir); !errors.Is(err, ErrNotRunning) {
		t.Errorf("after RemoveRecord: %v", err)
	}
}
