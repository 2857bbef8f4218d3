package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net/mail"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"golang.org/x/term"

	"github.com/personabackend/app/build"
	"github.com/personabackend/app/dev/cognitolocal"
	"github.com/personabackend/app/internal/localaws"
)

const poolHelp = `Which user pool: a deployed stage's (its UserPoolId output, read as outputs reads it;
needs AWS credentials), or, for the local stage (or with --local), the pool of the dev
mode running that stage on this machine: moto's Cognito, which lives as long as dev runs.`

var usersAddCommand = command{
	name:    "users add",
	args:    "EMAIL --stage STAGE [--password-stdin | --invite] [--local]",
	summary: "Create a user who signs in with EMAIL",
	details: `Creates a user in the stage's user pool, with EMAIL as their verified email address.
They sign in to the web app with it and a temporary password, then choose their own.

The temporary password is generated (meeting the pool's password policy) and printed
once; with --password-stdin it is read from standard input instead (at a terminal,
without being shown); with --invite, Cognito makes one and emails it to the user.

` + poolHelp + `

Examples:
  PROGRAM users add ada@example.com --stage dev
  PROGRAM users add ada@example.com --stage prod --invite
  PROGRAM users add ada@example.com --stage local         (while go run . dev runs)`,
	run: func(ctx context.Context, t *tool, args []string) error { return t.usersAdd(ctx, args) },
}

var usersListCommand = command{
	name:    "users list",
	args:    "--stage STAGE [--local]",
	summary: "List the users of a stage's user pool",
	details: `Lists the users of the stage's user pool: email, status (FORCE_CHANGE_PASSWORD until
their first sign-in, then CONFIRMED) and when each was created.

` + poolHelp + `

Example:
  PROGRAM users list --stage dev`,
	run: func(ctx context.Context, t *tool, args []string) error { return t.usersList(ctx, args) },
}

var usersRemoveCommand = command{
	name:    "users remove",
	args:    "EMAIL --stage STAGE [--yes] [--local]",
	summary: "Delete a user from a stage's user pool",
	details: `Deletes the user who signs in with EMAIL. At a terminal it asks first; elsewhere (a
script) --yes is required. Their personas stay in the table.

` + poolHelp + `

Example:
  PROGRAM users remove ada@example.com --stage dev --yes`,
	run: func(ctx context.Context, t *tool, args []string) error { return t.usersRemove(ctx, args) },
}

// userPool is the pool a users command works on.
type userPool struct {
	stage  string
	id     string
	client *cip.Client
	where  string // for messages: "stage dev's user pool (us-east-1_Abc)"
	local  bool
}

// usersArgs parses a users command line, runs check on it (before anything is
// looked up), and finds the stage's pool.
func (t *tool) usersArgs(ctx context.Context, name string, args []string, a arity, define func(*flag.FlagSet), check func(pos []string) error) (*userPool, error) {
	var local bool
	info, pos, err := t.stageArgs(name, args, a, func(fs *flag.FlagSet) {
		fs.BoolVar(&local, "local", false, "the pool of the dev mode running the stage here (default for the local stage)")
		if define != nil {
			define(fs)
		}
	})
	if err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(pos); err != nil {
			return nil, err
		}
	}
	if local || info.Name == LocalStage {
		return localPool(ctx, info.Name)
	}
	return t.deployedPool(ctx, info)
}

// localPool is the pool of the dev session running stage on this machine.
func localPool(ctx context.Context, stage string) (*userPool, error) {
	root, err := build.ModuleRoot(".")
	if err != nil {
		return nil, err
	}
	record, err := cognitolocal.ReadRecord(ctx, localaws.DevStageDir(root, stage))
	if errors.Is(err, cognitolocal.ErrNotRunning) {
		return nil, fmt.Errorf("%w for stage %s: the users of a dev stage live in the dev mode's local Cognito while it runs. Start it (%s dev --stage %s; it needs moto: %s), then run this again in another terminal",
			err, stage, Program, stage, "pip install 'moto[server]'")
	}
	if err != nil {
		return nil, err
	}
	return &userPool{
		stage: stage, id: record.PoolID, client: record.Client(), local: true,
		where: fmt.Sprintf("stage %s's local user pool (%s, served by dev)", stage, record.PoolID),
	}, nil
}

// deployedPool is the pool named by a deployed stage's UserPoolId output.
func (t *tool) deployedPool(ctx context.Context, info StageInfo) (*userPool, error) {
	outputs, err := t.readOutputs(ctx, info)
	if err != nil {
		return nil, err
	}
	out, ok := outputs["UserPoolId"]
	var id string
	if !ok || json.Unmarshal(out.Value, &id) != nil || id == "" {
		return nil, fmt.Errorf("stage %s has no user pool (no UserPoolId output): it trusts the identity provider named by AUTH_ISSUER, so add its users there", info.Name)
	}
	region, _, ok := strings.Cut(id, "_")
	if !ok {
		return nil, fmt.Errorf("stage %s's UserPoolId output %q is not a user pool id", info.Name, id)
	}
	cfg, err := awsConfig(ctx)
	if err != nil {
		return nil, err
	}
	// The pool is where its id says, whatever region this machine's configuration names.
	cfg.Region = region
	return &userPool{
		stage: info.Name, id: id, client: cip.NewFromConfig(cfg),
		where: fmt.Sprintf("stage %s's user pool (%s)", info.Name, id),
	}, nil
}

func (t *tool) usersAdd(ctx context.Context, args []string) error {
	var fromStdin, invite bool
	var email string
	pool, err := t.usersArgs(ctx, "users add", args, arity{min: 1, max: 1, expected: "one EMAIL"}, func(fs *flag.FlagSet) {
		fs.BoolVar(&fromStdin, "password-stdin", false, "read the temporary password from standard input")
		fs.BoolVar(&invite, "invite", false, "let Cognito email the user an invitation with a temporary password")
	}, func(pos []string) (err error) {
		if fromStdin && invite {
			return usagef("give --password-stdin or --invite, not both")
		}
		email, err = checkEmail(pos[0])
		return err
	})
	if err != nil {
		return err
	}
	if invite && pool.local {
		return usagef("--invite sends an email, which the local Cognito cannot: leave it out to get a temporary password")
	}
	in := &cip.AdminCreateUserInput{
		UserPoolId: aws.String(pool.id),
		Username:   aws.String(email),
		UserAttributes: []ciptypes.AttributeType{
			{Name: aws.String("email"), Value: aws.String(email)},
			// The administrator vouches for the address: no verification code is sent,
			// and Cognito can use it for a forgotten password.
			{Name: aws.String("email_verified"), Value: aws.String("true")},
		},
	}
	var password string
	if invite {
		in.DesiredDeliveryMediums = []ciptypes.DeliveryMediumType{ciptypes.DeliveryMediumTypeEmail}
	} else {
		policy, err := pool.passwordPolicy(ctx)
		if err != nil {
			return err
		}
		if fromStdin {
			if password, err = t.readPassword(); err != nil {
				return err
			}
			if err := policy.check(password); err != nil {
				return fmt.Errorf("the temporary password does not meet %s's password policy: %w; nothing was created", pool.where, err)
			}
		} else if password, err = policy.generate(); err != nil {
			return err
		}
		in.TemporaryPassword = aws.String(password)
		// The password is handed over here, not by an email from Cognito.
		in.MessageAction = ciptypes.MessageActionTypeSuppress
	}
	if _, err := pool.client.AdminCreateUser(ctx, in); err != nil {
		return pool.explain(err, "creating user "+email)
	}
	fmt.Fprintf(t.stdout, "Added %s to %s.\n", email, pool.where)
	switch {
	case invite:
		fmt.Fprintf(t.stdout, "Cognito emails them an invitation with a temporary password; at their first sign-in they choose their own.\n")
	case fromStdin:
		fmt.Fprintf(t.stdout, "They sign in with the temporary password you gave, then choose their own.\n")
	default:
		fmt.Fprintf(t.stdout, "Temporary password (shown this once; they choose their own at their first sign-in):\n    %s\n", password)
	}
	return nil
}

func (t *tool) usersList(ctx context.Context, args []string) error {
	pool, err := t.usersArgs(ctx, "users list", args, noArgs, nil, nil)
	if err != nil {
		return err
	}
	var users []ciptypes.UserType
	pages := cip.NewListUsersPaginator(pool.client, &cip.ListUsersInput{UserPoolId: aws.String(pool.id)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return pool.explain(err, "listing users")
		}
		users = append(users, page.Users...)
	}
	if len(users) == 0 {
		fmt.Fprintf(t.stdout, "No users in %s. Add one with: %s users add EMAIL --stage %s\n", pool.where, Program, pool.stage)
		return nil
	}
	slices.SortFunc(users, func(a, b ciptypes.UserType) int {
		return aws.ToTime(a.UserCreateDate).Compare(aws.ToTime(b.UserCreateDate))
	})
	tw := tabwriter.NewWriter(t.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tSTATUS\tCREATED")
	for _, u := range users {
		email := aws.ToString(u.Username)
		for _, a := range u.Attributes {
			if aws.ToString(a.Name) == "email" {
				email = aws.ToString(a.Value)
			}
		}
		status := string(u.UserStatus)
		if !u.Enabled {
			status += " (disabled)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", email, status, aws.ToTime(u.UserCreateDate).UTC().Format(time.DateTime+" UTC"))
	}
	return tw.Flush()
}

func (t *tool) usersRemove(ctx context.Context, args []string) error {
	var yes bool
	var email string
	pool, err := t.usersArgs(ctx, "users remove", args, arity{min: 1, max: 1, expected: "one EMAIL"}, func(fs *flag.FlagSet) {
		fs.BoolVar(&yes, "yes", false, "remove without asking")
	}, func(pos []string) (err error) {
		email, err = checkEmail(pos[0])
		return err
	})
	if err != nil {
		return err
	}
	if !yes {
		f, ok := t.stdin.(*os.File)
		if !ok || !isTerminal(f) {
			return usagef("removing a user cannot be undone: add --yes to remove %s without being asked", email)
		}
		fmt.Fprintf(t.stderr, "Remove %s from %s? Their personas stay, but they can no longer sign in. [y/N] ", email, pool.where)
		answer, _ := bufio.NewReader(f).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			fmt.Fprintln(t.stdout, "Nothing was removed.")
			return nil
		}
	}
	if _, err := pool.client.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: aws.String(pool.id), Username: aws.String(email)}); err != nil {
		return pool.explain(err, "removing user "+email)
	}
	fmt.Fprintf(t.stdout, "Removed %s from %s.\n", email, pool.where)
	return nil
}

// checkEmail accepts a bare email address, as the pool signs people in with it.
func checkEmail(s string) (string, error) {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" || !strings.Contains(s[strings.LastIndex(s, "@")+1:], ".") {
		return "", usagef("%q is not an email address such as ada@example.com: users sign in with their email", s)
	}
	return strings.ToLower(s), nil
}

// readPassword reads the temporary password from standard input; at a terminal,
// without echoing it.
func (t *tool) readPassword() (string, error) {
	if f, ok := t.stdin.(*os.File); ok && isTerminal(f) {
		fmt.Fprint(t.stderr, "Temporary password (not shown as you type), then Enter: ")
		value, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(t.stderr)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		return string(value), nil
	}
	line, err := bufio.NewReader(t.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("reading the password from standard input: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// explain turns Cognito's refusals into what to do.
func (p *userPool) explain(err error, what string) error {
	var exists *ciptypes.UsernameExistsException
	var notFound *ciptypes.UserNotFoundException
	var badPassword *ciptypes.InvalidPasswordException
	var badParameter *ciptypes.InvalidParameterException
	var noPool *ciptypes.ResourceNotFoundException
	switch {
	case errors.As(err, &exists):
		return fmt.Errorf("%s: the user already exists in %s (see %s users list --stage %s)", what, p.where, Program, p.stage)
	case errors.As(err, &notFound):
		return fmt.Errorf("%s: no such user in %s (see %s users list --stage %s)", what, p.where, Program, p.stage)
	case errors.As(err, &badPassword):
		return fmt.Errorf("%s: Cognito refused the temporary password: %s", what, aws.ToString(badPassword.Message))
	case errors.As(err, &badParameter):
		return fmt.Errorf("%s: Cognito refused it: %s", what, aws.ToString(badParameter.Message))
	case errors.As(err, &noPool):
		return fmt.Errorf("%s: %s does not exist (was the stage removed outside of terraform?): %s", what, p.where, aws.ToString(noPool.Message))
	}
	return fmt.Errorf("%s in %s: %w", what, p.where, err)
}

// passwordPolicy is what the pool requires of a password.
type passwordPolicy struct {
	minLength                              int
	lowercase, uppercase, numbers, symbols bool
}

// passwordSymbols are the characters Cognito counts as symbols.
const passwordSymbols = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-"

func (p *userPool) passwordPolicy(ctx context.Context) (passwordPolicy, error) {
	out, err := p.client.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(p.id)})
	if err != nil {
		return passwordPolicy{}, p.explain(err, "reading the password policy")
	}
	policy := passwordPolicy{minLength: 8}
	if out.UserPool.Policies != nil && out.UserPool.Policies.PasswordPolicy != nil {
		pp := out.UserPool.Policies.PasswordPolicy
		policy = passwordPolicy{
			minLength: int(aws.ToInt32(pp.MinimumLength)), lowercase: pp.RequireLowercase,
			uppercase: pp.RequireUppercase, numbers: pp.RequireNumbers, symbols: pp.RequireSymbols,
		}
	}
	return policy, nil
}

// check says what a password lacks.
func (p passwordPolicy) check(password string) error {
	var missing []string
	if n := len([]rune(password)); n < p.minLength {
		missing = append(missing, fmt.Sprintf("at least %d characters (it has %d)", p.minLength, n))
	}
	for _, rule := range []struct {
		required bool
		what     string
		has      func(rune) bool
	}{
		{p.lowercase, "a lowercase letter", unicode.IsLower},
		{p.uppercase, "an uppercase letter", unicode.IsUpper},
		{p.numbers, "a digit", unicode.IsDigit},
		{p.symbols, "a symbol such as ! or #", func(r rune) bool { return strings.ContainsRune(passwordSymbols, r) }},
	} {
		if rule.required && !strings.ContainsFunc(password, rule.has) {
			missing = append(missing, rule.what)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("it needs %s", strings.Join(missing, ", "))
	}
	return nil
}

// generate makes a random password that meets the policy: at least 20 characters
// from every class, whichever the policy requires.
func (p passwordPolicy) generate() (string, error) {
	classes := []string{"abcdefghijkmnopqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ", "23456789", "!#%+-=?@^_"}
	length := max(p.minLength, 20)
	var out []byte
	pick := func(from string) error {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(from))))
		if err != nil {
			return fmt.Errorf("generating a password: %w", err)
		}
		out = append(out, from[n.Int64()])
		return nil
	}
	// One of each class first, then any, then a shuffle so the classes' places vary.
	for _, class := range classes {
		if err := pick(class); err != nil {
			return "", err
		}
	}
	all := strings.Join(classes, "")
	for len(out) < length {
		if err := pick(all); err != nil {
			return "", err
		}
	}
	for i := len(out) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", fmt.Errorf("generating a password: %w", err)
		}
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	return string(out), nil
}
