package dev

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/personabackend/app/build"
	"github.com/personabackend/app/dev/apigw"
	"github.com/personabackend/app/dev/cognitolocal"
	"github.com/personabackend/app/dev/website"
	"github.com/personabackend/app/internal/localaws"
	"github.com/personabackend/app/internal/staticsite"
	"github.com/personabackend/app/topology"
	"github.com/personabackend/app/web"
)

// DefaultWebPort is where the stack's web app is served unless told otherwise: its own
// origin, as deployed, beside the API's (3001 is left to the Next.js dev server).
const DefaultWebPort = 3002

// startSignIn runs the stack's user pool locally and returns the authorizer the local
// API checks tokens with: the pool's, as API Gateway's JWT authorizer checks the
// deployed pool's. A stack without a pool of its own (it trusts AUTH_ISSUER), or a
// machine without moto, gets the unsigned dev tokens instead.
func (s *Session) startSignIn(ctx context.Context) (apigw.Authorizer, error) {
	s.SignIn = web.SignInDev
	if len(s.stack.UserPools) == 0 {
		return apigw.DevTokens, nil
	}
	if len(s.stack.UserPools) > 1 {
		return nil, fmt.Errorf("stage %s declares %d user pools; the dev mode runs a stack's one pool", s.stack.Stage, len(s.stack.UserPools))
	}
	pool, err := cognitolocal.Start(ctx, s.stack.Region, s.stack.UserPools[0])
	var missing *localaws.ToolMissingError
	if errors.As(err, &missing) {
		s.log.printf("sign-in: %s cannot run here (%s), so there is no local Cognito and dev falls back to dev sign-in: the web app asks for a user name and the API takes unsigned dev tokens. For sign-in as deployed, %s, and start dev again",
			missing.Tool, missing.Problem, missing.Fix)
		return apigw.DevTokens, nil
	}
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, pool.Close)
	if err := cognitolocal.WriteRecord(s.opts.StateDir, pool.Record); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() { _ = cognitolocal.RemoveRecord(s.opts.StateDir) })
	s.Cognito, s.SignIn = &pool.Record, web.SignInCognito
	return apigw.NewJWTAuthorizer(pool.Issuer(), []string{pool.ClientID}, pool.JWKSURL()), nil
}

// startSite serves the stack's site (built as synth builds it) on l, with a config.json
// pointing the page at the local API and the local user pool.
func (s *Session) startSite(ctx context.Context, builder *build.SiteBuilder, site topology.Site, l net.Listener) error {
	dir := site.Path
	if site.Build != nil {
		art, err := builder.Wait(ctx, *site.Build)
		if err != nil {
			return fmt.Errorf("site %s: %w", site.ID, err)
		}
		dir = art.Dir
	} else if !filepath.IsAbs(dir) {
		dir = filepath.Join(s.opts.Root, dir)
	}
	scan, err := staticsite.Read(dir, site.ImmutablePaths)
	if err != nil {
		return fmt.Errorf("site %s: %w", site.ID, err)
	}
	config := web.Config{Stage: s.stack.Stage, APIURL: s.APIURL, Region: s.stack.Region, SignIn: s.SignIn}
	connect := []string{s.APIURL}
	if s.Cognito != nil {
		config.UserPoolID, config.UserPoolClientID = s.Cognito.PoolID, s.Cognito.ClientID
		config.CognitoEndpoint = s.Cognito.Endpoint
		config.PasswordPolicy = web.PasswordPolicy(s.stack.UserPools[0].PasswordPolicy)
		connect = append(connect, origin(s.Cognito.Endpoint))
	}
	data, err := config.JSON()
	if err != nil {
		return fmt.Errorf("site %s: %w", site.ID, err)
	}
	s.serve(l, website.Handler(scan, data, connect...))
	return nil
}

// cors is the API's CORS configuration with the local origin of each of the stack's
// sites in place of its deployed one.
func (s *Session) cors() apigw.CORS {
	c := s.stack.CORS
	if c == nil {
		return apigw.CORS{}
	}
	origins := append([]string(nil), c.AllowOrigins...)
	if len(c.AllowSites) > 0 && s.WebURL != "" {
		origins = append(origins, s.WebURL)
	}
	return apigw.CORS{
		AllowOrigins: origins, AllowMethods: c.AllowMethods, AllowHeaders: c.AllowHeaders,
		ExposeHeaders: c.ExposeHeaders, MaxAgeSeconds: c.MaxAgeSeconds,
	}
}

// origin is scheme://host[:port] of a URL.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return strings.TrimSuffix(raw, "/")
	}
	return u.Scheme + "://" + u.Host
}
