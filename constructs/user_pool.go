package constructs

import (
	"fmt"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cognitouserpool"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cognitouserpoolclient"
)

// UserPool is a Cognito user pool with one app client: a ready JWT issuer for a
// stage that has no identity provider of its own.
type UserPool struct {
	stack  *Stack
	pool   cognitouserpool.CognitoUserPool
	client cognitouserpoolclient.CognitoUserPoolClient
}

// NewUserPool declares a user pool where people sign in with their email address
// (accounts are created by an administrator, never by self sign-up), and a public
// app client (no secret) for the API's callers.
func NewUserPool(stack *Stack, id string) *UserPool {
	scope := stack.scope(id)
	deletion := "INACTIVE"
	if stack.stage.Protected {
		deletion = "ACTIVE"
	}
	pool := cognitouserpool.NewCognitoUserPool(scope, jsii.String("pool"), &cognitouserpool.CognitoUserPoolConfig{
		Name:                   jsii.String(stack.ResourceName(kebab(id))),
		UsernameAttributes:     jsii.Strings("email"),
		AutoVerifiedAttributes: jsii.Strings("email"),
		DeletionProtection:     jsii.String(deletion),
		// Nobody signs themselves up: an administrator creates each user.
		AdminCreateUserConfig: &cognitouserpool.CognitoUserPoolAdminCreateUserConfig{
			AllowAdminCreateUserOnly: jsii.Bool(true),
		},
		PasswordPolicy: &cognitouserpool.CognitoUserPoolPasswordPolicy{
			MinimumLength:    jsii.Number(12),
			RequireLowercase: jsii.Bool(true),
			RequireUppercase: jsii.Bool(true),
			RequireNumbers:   jsii.Bool(true),
			RequireSymbols:   jsii.Bool(false),
		},
		Lifecycle: stack.lifecycle(),
	})
	client := cognitouserpoolclient.NewCognitoUserPoolClient(scope, jsii.String("client"), &cognitouserpoolclient.CognitoUserPoolClientConfig{
		Name:                       jsii.String(stack.ResourceName(kebab(id) + "-client")),
		UserPoolId:                 pool.Id(),
		GenerateSecret:             jsii.Bool(false),
		ExplicitAuthFlows:          jsii.Strings("ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"),
		PreventUserExistenceErrors: jsii.String("ENABLED"),
		EnableTokenRevocation:      jsii.Bool(true),
	})
	return &UserPool{stack: stack, pool: pool, client: client}
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
