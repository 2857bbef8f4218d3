package cli_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/personabackend/app/dev/cognitolocal"
	"github.com/personabackend/app/internal/localaws"
	"github.com/personabackend/app/internal/localaws/localawstest"
	"github.com/personabackend/app/topology"
)

// usersPool starts moto's Cognito with a pool shaped like the stack's.
func usersPool(t *testing.T) *cognitolocal.Pool {
	t.Helper()
	pool, err := cognitolocal.Start(context.Background(), "us-east-1", topology.UserPool{
		Name: "persona-dev-users", UsernameAttributes: []string{"email"}, AutoVerifiedAttributes: []string{"email"}, AdminCreateUserOnly: true,
		PasswordPolicy: topology.PasswordPolicy{MinimumLength: 12, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true},
		Client:         topology.UserPoolClient{Name: "persona-dev-users-client", ExplicitAuthFlows: []string{"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}},
	})
	if errors.Is(err, cognitolocal.ErrMotoMissing) {
		localawstest.SkipOrFail(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// userAttributes returns a user's attributes and status as Cognito holds them.
func userAttributes(t *testing.T, pool *cognitolocal.Pool, email string) (map[string]string, string) {
	t.Helper()
	out, err := pool.Client().AdminGetUser(context.Background(), &cip.AdminGetUserInput{UserPoolId: aws.String(pool.PoolID), Username: aws.String(email)})
	if err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	attrs := map[string]string{}
	for _, a := range out.UserAttributes {
		attrs[aws.ToString(a.Name)] = aws.ToString(a.Value)
	}
	return attrs, string(out.UserStatus)
}

var temporaryPassword = regexp.MustCompile(`(?m)^    (\S+)$`)

func TestUsersOfADeployedStageAreManagedInItsUserPool(t *testing.T) {
	useTerraform(t)
	p := newProject(t)
	pool := usersPool(t)
	p.userPool = pool.PoolID
	mustRun(t, p, "deploy", "--stage", "dev")
	noAWSCredentials(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "eu-west-1") // the pool's id says where it is
	t.Setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", pool.Endpoint)

	added := mustRun(t, p, "users", "add", "Ada@Example.com", "--stage", "dev")
	assertContains(t, "users add", added.stdout, "Added ada@example.com to stage dev's user pool ("+pool.PoolID+")", "shown this once")
	m := temporaryPassword.FindStringSubmatch(added.stdout)
	if m == nil {
		t.Fatalf("no temporary password printed:\n%s", added.stdout)
	}
	password := m[1]
	if len(password) < 20 || !strings.ContainsFunc(password, unicode.IsUpper) || !strings.ContainsFunc(password, unicode.IsLower) || !strings.ContainsFunc(password, unicode.IsDigit) {
		t.Errorf("generated password %q does not meet the pool's policy", password)
	}
	attrs, status := userAttributes(t, pool, "ada@example.com")
	if attrs["email"] != "ada@example.com" || attrs["email_verified"] != "true" || status != "FORCE_CHANGE_PASSWORD" {
		t.Errorf("user attributes %v, status %s; want a verified email and a password to change", attrs, status)
	}

	again := mustFail(t, p, "", "users", "add", "ada@example.com", "--stage", "dev")
	assertContains(t, "adding an existing user", again.stderr, "already exists", "users list --stage dev")

	weak := mustFail(t, p, "short\n", "users", "add", "bob@example.com", "--stage", "dev", "--password-stdin")
	assertContains(t, "a weak temporary password", weak.stderr, "at least 12 characters", "an uppercase letter", "a digit", "nothing was created")
	// The password as a pipe gives it.
	if r := run(t, p, "Chosen-by-admin1\n", "users", "add", "bob@example.com", "--stage", "dev", "--password-stdin"); r.code != 0 || strings.Contains(r.stdout, "Chosen-by-admin1") {
		t.Errorf("users add --password-stdin: exit %d, stdout %q (the password must not be echoed)", r.code, r.stdout)
	}
	if _, status := userAttributes(t, pool, "bob@example.com"); status != "FORCE_CHANGE_PASSWORD" {
		t.Errorf("bob's status %s", status)
	}

	list := mustRun(t, p, "users", "list", "--stage", "dev").stdout
	if !regexp.MustCompile(`(?m)^ada@example\.com +FORCE_CHANGE_PASSWORD +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$`).MatchString(list) || !strings.Contains(list, "bob@example.com") {
		t.Errorf("users list:\n%s", list)
	}

	unasked := mustFail(t, p, "", "users", "remove", "ada@example.com", "--stage", "dev")
	assertContains(t, "removing without --yes outside a terminal", unasked.stderr, "add --yes")
	mustRun(t, p, "users", "remove", "ada@example.com", "--stage", "dev", "--yes")
	if list := mustRun(t, p, "users", "list", "--stage", "dev").stdout; strings.Contains(list, "ada@example.com") {
		t.Errorf("ada is still listed after removal:\n%s", list)
	}
	missing := mustFail(t, p, "", "users", "remove", "ada@example.com", "--stage", "dev", "--yes")
	assertContains(t, "removing a missing user", missing.stderr, "no such user")
}

func TestUsersCommandsSayWhyAStageHasNoPoolToManage(t *testing.T) {
	useTerraform(t)
	p := newProject(t)
	for _, tt := range []struct {
		name  string
		setup func()
		args  []string
		want  []string
	}{
		{"an invalid email", nil, []string{"users", "add", "ada", "--stage", "dev"}, []string{`"ada" is not an email address`}},
		{"a stage not deployed", nil, []string{"users", "list", "--stage", "staging"}, []string{"stage staging is not deployed", "deploy --stage staging"}},
		{"a stage trusting its own issuer", func() { mustRun(t, p, "deploy", "--stage", "dev") }, []string{"users", "list", "--stage", "dev"}, []string{"has no user pool", "AUTH_ISSUER"}},
		{"the local stage while dev is not running", nil, []string{"users", "add", "ada@example.com", "--stage", "local"}, []string{"no local user pool is running", "dev --stage local", "pip install 'moto[server]'"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup()
			}
			assertContains(t, tt.name, mustFail(t, p, "", tt.args...).stderr, tt.want...)
		})
	}
}

func TestUsersOfTheLocalStageGoToTheRunningDevModesPool(t *testing.T) {
	p := newProject(t)
	pool := usersPool(t)
	noAWSCredentials(t) // the local pool needs none
	if err := cognitolocal.WriteRecord(localaws.DevStageDir(p.root, "local"), pool.Record); err != nil {
		t.Fatal(err)
	}
	added := mustRun(t, p, "users", "add", "ada@example.com", "--stage", "local")
	assertContains(t, "users add on the local stage", added.stdout, "local user pool ("+pool.PoolID+", served by dev)")
	if attrs, _ := userAttributes(t, pool, "ada@example.com"); attrs["email_verified"] != "true" {
		t.Errorf("attributes %v", attrs)
	}
	assertContains(t, "users list --stage local", mustRun(t, p, "users", "list", "--stage", "local").stdout, "ada@example.com")
	invite := mustFail(t, p, "", "users", "add", "bob@example.com", "--stage", "local", "--invite")
	assertContains(t, "--invite on the local pool", invite.stderr, "cannot")
	if len(p.synths) != 0 {
		t.Errorf("the local stage's users were found by synthesizing %v", p.synths)
	}
}
