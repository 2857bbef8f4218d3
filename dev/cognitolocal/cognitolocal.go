// Package cognitolocal runs a stack's Cognito user pool on this machine for the dev
// mode: moto's server (python3 -m moto.server) holding the pool and app client as the
// stack declares them, behind a small proxy that serves Cognito's API on loopback and
// fills in what moto leaves out of its answers.
//
// The page signs in against it with the same SRP code as against Cognito, the users
// commands create users in it, and the local API checks its tokens against its key set.
// Where moto differs from Cognito, Cognito's documented behaviour is the truth: moto
// accepts any password in an SRP sign-in (so a wrong password cannot be tested against
// it); it keeps a pool's case-insensitive usernames setting but finds users by the
// exact text (Ada@Example.com does not sign in as ada@example.com); and its
// NEW_PASSWORD_REQUIRED challenge has empty ChallengeParameters, which the proxy
// completes as Cognito sends them. It keeps the MFA setting and asks users who set up
// an authenticator app for its code, as Cognito does. It takes a password rule left
// out of a pool's policy as required (Cognito: not required), so the pool is created
// with every rule named.
package cognitolocal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/personabackend/app/internal/localaws"
	"github.com/personabackend/app/topology"
)

// Pool is a user pool served on this machine.
type Pool struct {
	Record
	moto  *localaws.Server
	proxy *http.Server
}

// Record is what a running pool's users need to reach it; the dev mode keeps it in
// its stage folder (RecordFile) while it runs, for the users commands.
type Record struct {
	// Endpoint is Cognito's API for this pool (what the page, the SDK and the users
	// commands call), e.g. http://127.0.0.1:41234/.
	Endpoint string `json:"endpoint"`
	Region   string `json:"region"`
	PoolID   string `json:"userPoolId"`
	ClientID string `json:"userPoolClientId"`
}

// RecordFile is the file in the dev mode's stage folder (localaws.DevStageDir) that
// holds a running pool's Record.
const RecordFile = "cognito.json"

// Issuer is what the pool's tokens carry in iss: Cognito's address of the pool, as on
// AWS (the local API trusts exactly this, as API Gateway trusts the deployed pool's).
func (r Record) Issuer() string {
	return fmt.Sprintf("https://cognito-idp.%s.amazonaws.com/%s", r.Region, r.PoolID)
}

// JWKSURL is where the pool's signing keys are served.
func (r Record) JWKSURL() string { return r.Endpoint + r.PoolID + "/.well-known/jwks.json" }

// Client returns a Cognito client for the pool's endpoint. The local pool takes any
// credentials; these are fixed so that no AWS profile is ever read.
func (r Record) Client() *cip.Client {
	return cip.New(cip.Options{
		Region:       r.Region,
		BaseEndpoint: aws.String(r.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}

// ErrMotoMissing is what Start's error wraps when moto's server cannot run here.
var ErrMotoMissing = localaws.ErrToolMissing

// Start runs moto's server, creates the pool and client of spec in region, and serves
// Cognito's API for them on a loopback port.
func Start(ctx context.Context, region string, spec topology.UserPool) (_ *Pool, err error) {
	moto, err := localaws.StartMoto(ctx)
	if err != nil {
		return nil, fmt.Errorf("starting the local Cognito: %w", err)
	}
	p := &Pool{moto: moto, Record: Record{Region: region}}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting the local Cognito's proxy: %w", err)
	}
	p.Endpoint = "http://" + l.Addr().String() + "/"
	target, err := url.Parse(moto.Endpoint)
	if err != nil {
		l.Close()
		return nil, err
	}
	p.proxy = &http.Server{Handler: newProxy(target, region), ReadHeaderTimeout: 10 * time.Second}
	go p.proxy.Serve(l)
	if err := p.create(ctx, spec); err != nil {
		return nil, err
	}
	return p, nil
}

// create makes the pool and its client as the stack declares them.
func (p *Pool) create(ctx context.Context, spec topology.UserPool) error {
	client := p.Client()
	var usernameAttrs []ciptypes.UsernameAttributeType
	for _, a := range spec.UsernameAttributes {
		usernameAttrs = append(usernameAttrs, ciptypes.UsernameAttributeType(a))
	}
	var verified []ciptypes.VerifiedAttributeType
	for _, a := range spec.AutoVerifiedAttributes {
		verified = append(verified, ciptypes.VerifiedAttributeType(a))
	}
	pool, err := client.CreateUserPool(ctx, &cip.CreateUserPoolInput{
		PoolName:               aws.String(spec.Name),
		UsernameAttributes:     usernameAttrs,
		AutoVerifiedAttributes: verified,
		UsernameConfiguration:  &ciptypes.UsernameConfigurationType{CaseSensitive: aws.Bool(spec.UsernamesCaseSensitive)},
		AdminCreateUserConfig:  &ciptypes.AdminCreateUserConfigType{AllowAdminCreateUserOnly: spec.AdminCreateUserOnly},
	}, withPasswordPolicy(spec.PasswordPolicy))
	if err != nil {
		return fmt.Errorf("creating the local user pool %s: %w", spec.Name, err)
	}
	p.PoolID = aws.ToString(pool.UserPool.Id)
	// A second factor is set as the deployed pool's is: TOTP apps, turned on after the
	// pool exists (Cognito takes TOTP's settings from SetUserPoolMfaConfig alone).
	if spec.MFA != "" && spec.MFA != string(ciptypes.UserPoolMfaTypeOff) {
		if _, err := client.SetUserPoolMfaConfig(ctx, &cip.SetUserPoolMfaConfigInput{
			UserPoolId:                    aws.String(p.PoolID),
			MfaConfiguration:              ciptypes.UserPoolMfaType(spec.MFA),
			SoftwareTokenMfaConfiguration: &ciptypes.SoftwareTokenMfaConfigType{Enabled: true},
		}); err != nil {
			return fmt.Errorf("setting the local user pool %s's MFA to %s: %w", spec.Name, spec.MFA, err)
		}
	}
	var flows []ciptypes.ExplicitAuthFlowsType
	for _, f := range spec.Client.ExplicitAuthFlows {
		flows = append(flows, ciptypes.ExplicitAuthFlowsType(f))
	}
	prevent := ciptypes.PreventUserExistenceErrorTypesLegacy
	if spec.Client.PreventUserExistenceErrors {
		prevent = ciptypes.PreventUserExistenceErrorTypesEnabled
	}
	appClient, err := client.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId:                 aws.String(p.PoolID),
		ClientName:                 aws.String(spec.Client.Name),
		GenerateSecret:             spec.Client.GenerateSecret,
		ExplicitAuthFlows:          flows,
		PreventUserExistenceErrors: prevent,
		EnableTokenRevocation:      aws.Bool(spec.Client.EnableTokenRevocation),
	})
	if err != nil {
		return fmt.Errorf("creating the local user pool client %s: %w", spec.Client.Name, err)
	}
	p.ClientID = aws.ToString(appClient.UserPoolClient.ClientId)
	return nil
}

// withPasswordPolicy has CreateUserPool send policy with every rule named, those the
// pool does not require too. The SDK leaves a rule that is false out of the request,
// which Cognito takes as not required but moto as required: a pool created through
// the SDK alone refuses every password without a symbol, whatever its policy says.
func withPasswordPolicy(policy topology.PasswordPolicy) func(*cip.Options) {
	rules := struct {
		PasswordPolicy passwordPolicy
	}{passwordPolicy{
		MinimumLength:    policy.MinimumLength,
		RequireLowercase: policy.RequireLowercase,
		RequireUppercase: policy.RequireUppercase,
		RequireNumbers:   policy.RequireNumbers,
		RequireSymbols:   policy.RequireSymbols,
	}}
	setPolicies := middleware.SerializeMiddlewareFunc("PasswordPolicyInFull", func(ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler) (middleware.SerializeOutput, middleware.Metadata, error) {
		req, ok := in.Request.(*smithyhttp.Request)
		if !ok {
			return middleware.SerializeOutput{}, middleware.Metadata{}, fmt.Errorf("sending the password policy: unexpected request type %T", in.Request)
		}
		var body map[string]json.RawMessage
		if err := json.NewDecoder(req.GetStream()).Decode(&body); err != nil {
			return middleware.SerializeOutput{}, middleware.Metadata{}, fmt.Errorf("sending the password policy: reading the request: %w", err)
		}
		var err error
		if body["Policies"], err = json.Marshal(rules); err != nil {
			return middleware.SerializeOutput{}, middleware.Metadata{}, err
		}
		data, err := json.Marshal(body)
		if err != nil {
			return middleware.SerializeOutput{}, middleware.Metadata{}, err
		}
		if in.Request, err = req.SetStream(bytes.NewReader(data)); err != nil {
			return middleware.SerializeOutput{}, middleware.Metadata{}, err
		}
		return next.HandleSerialize(ctx, in)
	})
	return func(o *cip.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			// After the SDK's serializer, which writes the request's body.
			return stack.Serialize.Add(setPolicies, middleware.After)
		})
	}
}

// passwordPolicy is Cognito's PasswordPolicyType as the API takes it, each rule sent.
type passwordPolicy struct {
	MinimumLength    int
	RequireLowercase bool
	RequireUppercase bool
	RequireNumbers   bool
	RequireSymbols   bool
}

// Close stops the proxy and moto's server; the pool and its users are gone.
func (p *Pool) Close() {
	if p.proxy != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = p.proxy.Shutdown(ctx)
		_ = p.proxy.Close()
	}
	if p.moto != nil {
		p.moto.Stop()
	}
}

// newProxy forwards Cognito's API to moto's server, naming Cognito's regional host so
// that moto serves every request (the JSON API and the key set) as cognito-idp.
func newProxy(target *url.URL, region string) http.Handler {
	host := "cognito-idp." + region + ".amazonaws.com"
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = host
		},
		ModifyResponse: completeChallenge,
	}
}

// completeChallenge adds to a NEW_PASSWORD_REQUIRED challenge the parameters Cognito
// always sends and moto leaves out: userAttributes (the user's attributes as a JSON
// object) and requiredAttributes (a JSON list of the attributes still to give).
// amazon-cognito-identity-js parses both and fails on their absence.
func completeChallenge(resp *http.Response) error {
	target := resp.Request.Header.Get("X-Amz-Target")
	if resp.StatusCode != http.StatusOK || !(strings.HasSuffix(target, "InitiateAuth") || strings.HasSuffix(target, "RespondToAuthChallenge")) {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	var answer map[string]any
	if json.Unmarshal(body, &answer) == nil && answer["ChallengeName"] == "NEW_PASSWORD_REQUIRED" {
		params, _ := answer["ChallengeParameters"].(map[string]any)
		if params == nil {
			params = map[string]any{}
		}
		if _, ok := params["userAttributes"]; !ok {
			params["userAttributes"] = "{}"
		}
		if _, ok := params["requiredAttributes"]; !ok {
			params["requiredAttributes"] = "[]"
		}
		answer["ChallengeParameters"] = params
		if completed, err := json.Marshal(answer); err == nil {
			body = completed
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}

// WriteRecord keeps r in dir (the dev mode's stage folder), readable by its owner only.
func WriteRecord(dir string, r Record) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("writing the local Cognito's address: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, RecordFile), append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing the local Cognito's address: %w", err)
	}
	return nil
}

// RemoveRecord forgets the record in dir: the pool it names has stopped.
func RemoveRecord(dir string) error {
	err := os.Remove(filepath.Join(dir, RecordFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// ErrNotRunning is what ReadRecord's error wraps when no dev session's pool is running.
var ErrNotRunning = errors.New("no local user pool is running")

// ReadRecord returns the record of the pool a running dev session serves from dir,
// checking that the pool answers.
func ReadRecord(ctx context.Context, dir string) (Record, error) {
	data, err := os.ReadFile(filepath.Join(dir, RecordFile))
	if errors.Is(err, os.ErrNotExist) {
		return Record{}, ErrNotRunning
	}
	if err != nil {
		return Record{}, fmt.Errorf("reading the local Cognito's address: %w", err)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil || r.Endpoint == "" || r.PoolID == "" {
		return Record{}, fmt.Errorf("%s in %s is not a local Cognito's address: %w", RecordFile, dir, ErrNotRunning)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := r.Client().DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(r.PoolID)}); err != nil {
		return Record{}, fmt.Errorf("the local Cognito at %s does not answer (%v): %w", r.Endpoint, err, ErrNotRunning)
	}
	return r, nil
}
