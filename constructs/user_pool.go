package constructs

import (
	"fmt"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cognitouserpool"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cognitouserpoolclient"

	"github.com/personabackend/app/topology"
)

// UserPoolTier is a Cognito feature plan; a pool changes plan in place.
type UserPoolTier string

// Cognito's feature plans.
const (
	// TierLite has sign-in with a password (SRP), administrator-created users and
	// TOTP MFA: all the pool here uses, at the lowest price per monthly active user.
	TierLite UserPoolTier = "LITE"
	// TierEssentials, the plan AWS gives a pool that names none, adds the managed
	// login pages, passwordless and email MFA, password reuse prevention and access
	// token customization.
	TierEssentials UserPoolTier = "ESSENTIALS"
	// TierPlus adds threat protection: compromised-credential checks and adaptive,
	// risk-based authentication.
	TierPlus UserPoolTier = "PLUS"
)

// UserPoolProps configures a user pool.
type UserPoolProps struct {
	// Tier is the pool's feature plan; default TierLite. It is named on purpose
	// rather than left to AWS, whose default (ESSENTIALS) costs more per user for
	// features this pool does not use.
	Tier UserPoolTier
}

// UserPool is a Cognito user pool with one app client: a ready JWT issuer for a
// stage that has no identity provider of its own.
type UserPool struct {
	stack  *Stack
	pool   cognitouserpool.CognitoUserPool
	client cognitouserpoolclient.CognitoUserPoolClient
}

// PasswordMinimumLength and the character classes below are the pool's password
// policy: at least 12 characters with a lowercase letter, an uppercase letter and a
// digit. Symbols are allowed, not required: length adds more strength than forced
// symbols do, and people meet a long rule more willingly.
const PasswordMinimumLength = 12

// NewUserPool declares a user pool where people sign in with their email address,
// whatever its letter case (accounts are created by an administrator, never by self
// sign-up), and a public app client (no secret) for the API's callers.
//
// The stage chooses the second factor (Stage.UserMFA: TOTP apps) and the sender of the
// pool's emails (Stage.EmailSender: SES, else Cognito's own small quota). A protected
// stage's pool has deletion protection and prevent_destroy, and its app client
// prevent_destroy: a new client would sign every user out, and the web app and API
// name the client's id.
//
// Two choices cannot be changed once the pool exists: usernames are emails, and they
// are not case sensitive (Alice@Example.com and alice@example.com are one user).
func NewUserPool(stack *Stack, id string, props UserPoolProps) (*UserPool, error) {
	tier := props.Tier
	if tier == "" {
		tier = TierLite
	}
	switch tier {
	case TierLite, TierEssentials, TierPlus:
	default:
		return nil, fmt.Errorf("user pool %s: tier %q: use LITE, ESSENTIALS or PLUS", id, tier)
	}
	scope := stack.scope(id)
	mfa := MFAOff
	if stack.stage.UserMFA != "" {
		mfa = stack.stage.UserMFA
	}
	// The pool and client as the stack's topology describes them, so the dev mode's
	// local pool is the one deployed; the Terraform below is declared from the same values.
	spec := topology.UserPool{
		Name:                   stack.ResourceName(kebab(id)),
		UsernameAttributes:     []string{"email"},
		AutoVerifiedAttributes: []string{"email"},
		// Nobody signs themselves up: an administrator creates each user.
		AdminCreateUserOnly:    true,
		UsernamesCaseSensitive: false,
		MFA:                    string(mfa),
		PasswordPolicy: topology.PasswordPolicy{
			MinimumLength:    PasswordMinimumLength,
			RequireLowercase: true,
			RequireUppercase: true,
			RequireNumbers:   true,
			RequireSymbols:   false,
		},
		Client: topology.UserPoolClient{
			Name:                       stack.ResourceName(kebab(id) + "-client"),
			ExplicitAuthFlows:          []string{"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
			GenerateSecret:             false,
			PreventUserExistenceErrors: true,
			EnableTokenRevocation:      true,
		},
	}
	policy := spec.PasswordPolicy
	deletion := "INACTIVE"
	if stack.stage.Protected {
		deletion = "ACTIVE"
	}
	config := &cognitouserpool.CognitoUserPoolConfig{
		Name:                   jsii.String(spec.Name),
		UserPoolTier:           jsii.String(string(tier)),
		UsernameAttributes:     jsii.Strings(spec.UsernameAttributes...),
		UsernameConfiguration:  &cognitouserpool.CognitoUserPoolUsernameConfiguration{CaseSensitive: jsii.Bool(spec.UsernamesCaseSensitive)},
		AutoVerifiedAttributes: jsii.Strings(spec.AutoVerifiedAttributes...),
		DeletionProtection:     jsii.String(deletion),
		// Nobody signs themselves up: an administrator creates each user.
		AdminCreateUserConfig: &cognitouserpool.CognitoUserPoolAdminCreateUserConfig{
			AllowAdminCreateUserOnly: jsii.Bool(spec.AdminCreateUserOnly),
		},
		PasswordPolicy: &cognitouserpool.CognitoUserPoolPasswordPolicy{
			MinimumLength:    jsii.Number(float64(policy.MinimumLength)),
			RequireLowercase: jsii.Bool(policy.RequireLowercase),
			RequireUppercase: jsii.Bool(policy.RequireUppercase),
			RequireNumbers:   jsii.Bool(policy.RequireNumbers),
			RequireSymbols:   jsii.Bool(policy.RequireSymbols),
		},
		MfaConfiguration: jsii.String(spec.MFA),
		Lifecycle:        stack.lifecycle(),
	}
	if mfa != MFAOff {
		config.SoftwareTokenMfaConfiguration = &cognitouserpool.CognitoUserPoolSoftwareTokenMfaConfiguration{Enabled: jsii.Bool(true)}
	}
	if sender := stack.stage.EmailSender; sender != nil {
		email := &cognitouserpool.CognitoUserPoolEmailConfiguration{
			EmailSendingAccount: jsii.String("DEVELOPER"),
			FromEmailAddress:    jsii.String(sender.From),
			SourceArn:           jsii.String(sender.SESIdentityARN),
		}
		if sender.ReplyTo != "" {
			email.ReplyToEmailAddress = jsii.String(sender.ReplyTo)
		}
		config.EmailConfiguration = email
	}
	pool := cognitouserpool.NewCognitoUserPool(scope, jsii.String("pool"), config)
	preventExistenceErrors := "LEGACY"
	if spec.Client.PreventUserExistenceErrors {
		preventExistenceErrors = "ENABLED"
	}
	client := cognitouserpoolclient.NewCognitoUserPoolClient(scope, jsii.String("client"), &cognitouserpoolclient.CognitoUserPoolClientConfig{
		Name:                       jsii.String(spec.Client.Name),
		UserPoolId:                 pool.Id(),
		GenerateSecret:             jsii.Bool(spec.Client.GenerateSecret),
		ExplicitAuthFlows:          jsii.Strings(spec.Client.ExplicitAuthFlows...),
		PreventUserExistenceErrors: jsii.String(preventExistenceErrors),
		EnableTokenRevocation:      jsii.Bool(spec.Client.EnableTokenRevocation),
		Lifecycle:                  stack.lifecycle(),
	})
	stack.topo.UserPools = append(stack.topo.UserPools, spec)
	return &UserPool{stack: stack, pool: pool, client: client}, nil
}

// Auth is a JWT authorizer configuration accepting this pool's tokens for its client.
func (p *UserPool) Auth() JWTAuth {
	return JWTAuth{
		Issuer:   fmt.Sprintf("https://%s", *p.pool.Endpoint()),
		Audience: []string{*p.client.Id()},
	}
}

// ID is the user pool's id.
func (p *UserPool) ID() string { return *p.pool.Id() }

// ClientID is the app client's id.
func (p *UserPool) ClientID() string { return *p.client.Id() }

// SignInOrigin is the origin a browser calls to sign in to this pool: Cognito's user
// pools API in the stack's region, e.g. https://cognito-idp.eu-west-1.amazonaws.com.
func (p *UserPool) SignInOrigin() string {
	return fmt.Sprintf("https://cognito-idp.%s.%s", p.stack.app.region, p.stack.dnsSuffix())
}

// Region is the region of the pool, which a browser's Cognito client needs.
func (p *UserPool) Region() string { return p.stack.app.region }
