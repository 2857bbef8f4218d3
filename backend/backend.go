// Package backend defines the persona backend: the resources of each stage's stack.
package backend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/personabackend/app/constructs"
	"github.com/personabackend/app/internal/awsconfig"
	"github.com/personabackend/app/persona"
	"github.com/personabackend/app/topology"
	"github.com/personabackend/app/web"
)

// App is the app's name: stacks are "persona-<stage>".
const App = "persona"

// Define declares one stage's stack: secrets, the persona table, the task topic
// with the persona queue and its worker, the HTTP API, and the web app (MyWeb) on
// stages with their own user pool. The domain's names (link names, routes, the queue
// filter, secret names, the table schema) come from package persona, which the
// handlers read them from too.
func Define(app *constructs.App, stage constructs.Stage) (*constructs.Stack, error) {
	stack, err := app.NewStack(stage)
	if err != nil {
		return nil, err
	}
	secrets, err := constructs.NewSecretSet(stack, persona.Secrets...)
	if err != nil {
		return nil, err
	}
	apiKey, err := secrets.Secret(persona.APIKeySecret)
	if err != nil {
		return nil, err
	}
	table, err := constructs.NewPersonaTable(stack, persona.TableLink, constructs.TableProps{Name: "persona", Schema: persona.TableSchema()})
	if err != nil {
		return nil, err
	}
	tasks, err := constructs.NewTaskOrchestrator(stack, persona.TopicLink, constructs.TaskOrchestratorProps{Name: "tasks"})
	if err != nil {
		return nil, err
	}
	settings, err := personaSettings(stage)
	if err != nil {
		return nil, err
	}
	queue, err := tasks.SubscribeQueue(persona.QueueLink, constructs.QueueSubscriptionProps{
		Name:   "persona",
		Filter: persona.QueueFilter(),
		Worker: constructs.FunctionProps{
			Package:     "./lambdas/worker",
			Name:        "worker",
			Description: "Provisions requested personas",
			Environment: settings.Environment(),
			Links: []constructs.LinkTo{
				// Reads the task's persona and moves it along its statuses.
				{Resource: table, Access: constructs.TableAccess{Operations: []constructs.TableOp{constructs.GetItem, constructs.UpdateItem}}},
				{Resource: apiKey, Access: constructs.Read},
			},
		},
	})
	if err != nil {
		return nil, err
	}
	// Every persona ends ready or failed: the sweep queues again the task of one that
	// never reached the topic, and fails one the queue gave up on, once the queue's
	// retries are over.
	queueTopo, _ := stack.Topology().Queue(queue.Name())
	sweepSettings, err := withStuckAfter(settings, queueTopo)
	if err != nil {
		return nil, err
	}
	if _, err := constructs.NewScheduledFunction(stack, "Sweep", constructs.ScheduleProps{
		Every: sweepEvery,
		Function: constructs.FunctionProps{
			Package:     "./lambdas/sweep",
			Name:        "sweep",
			Description: "Moves on personas stuck in flight",
			Timeout:     time.Minute,
			Environment: sweepSettings.Environment(),
			Links: []constructs.LinkTo{
				// Reads the personas in flight from the sparse StatusIndex, each stuck one
				// itself, and moves it on; publishes a task again.
				{Resource: table, Access: constructs.TableAccess{
					Operations:  []constructs.TableOp{constructs.GetItem, constructs.UpdateItem},
					ScanIndexes: []string{persona.StatusIndex},
				}},
				{Resource: tasks, Access: constructs.Publish},
			},
		},
	}); err != nil {
		return nil, err
	}

	auth := constructs.JWTAuth{Issuer: stage.AuthIssuer, Audience: stage.AuthAudience}
	var users *constructs.UserPool
	if auth.Issuer == "" {
		// The Lite plan holds all the pool does (sign-in with a password, administrators
		// creating users, TOTP), at the lowest price per active user; AWS's default plan
		// for a new pool costs more for features nothing here uses. Plans change in place.
		if users, err = constructs.NewUserPool(stack, "Users", constructs.UserPoolProps{Tier: constructs.TierLite}); err != nil {
			return nil, err
		}
		auth = users.Auth()
	}
	api, err := constructs.NewBackendApi(stack, "BackendApi", constructs.BackendApiProps{
		Name: "api",
		Auth: &auth,
		CORS: constructs.CORS{
			AllowHeaders:  []string{"authorization", "content-type", strings.ToLower(persona.HeaderIdempotencyKey)},
			ExposeHeaders: []string{persona.HeaderLocation, persona.HeaderIdempotentReplayed},
		},
	})
	if err != nil {
		return nil, err
	}
	list, err := api.Route(persona.RouteList, constructs.FunctionProps{
		Package:     "./lambdas/list",
		Name:        "list",
		Description: "Lists the caller's personas",
		// Queries the caller's personas by owner, and nothing else.
		Links: []constructs.LinkTo{{Resource: table, Access: constructs.TableAccess{QueryIndexes: []string{persona.UserIDIndex}}}},
	})
	if err != nil {
		return nil, err
	}
	get, err := api.Route(persona.RouteGet, constructs.FunctionProps{
		Package:     "./lambdas/get",
		Name:        "get",
		Description: "Returns one of the caller's personas",
		Links:       []constructs.LinkTo{{Resource: table, Access: constructs.TableAccess{Operations: []constructs.TableOp{constructs.GetItem}}}},
	})
	if err != nil {
		return nil, err
	}
	request, err := api.Route(persona.RouteRequest, constructs.FunctionProps{
		Package:     "./lambdas/request",
		Name:        "request",
		Description: "Requests a new persona",
		Environment: settings.Environment(),
		Links: []constructs.LinkTo{
			// Creates the persona and records its task state; an Idempotency-Key retry
			// reads the stored persona back; counts the caller's personas in flight.
			{Resource: table, Access: constructs.TableAccess{
				Operations:   []constructs.TableOp{constructs.GetItem, constructs.PutItem, constructs.UpdateItem},
				QueryIndexes: []string{persona.StatusIndex},
			}},
			{Resource: tasks, Access: constructs.Publish},
		},
	}, constructs.Throttled(requestThrottle(stage)))
	if err != nil {
		return nil, err
	}
	if stage.Alarms {
		if err := watch(stack, stage, queue, api, []*constructs.GoFunction{list, get, request, queue.Worker()}); err != nil {
			return nil, err
		}
	}
	stack.Output("ApiUrl", api.URL(), "Base URL of the HTTP API")
	stack.Output("PersonaTableName", table.Name(), "Name of the persona table")
	if users == nil {
		// The web app signs in with Cognito (SRP) only: it cannot sign in to an identity
		// provider it does not know, so a stage trusting AUTH_ISSUER serves no MyWeb, and
		// its API keeps accepting calls from any origin for your own front end (tokens
		// travel in a header, never as cookies, so no other site can borrow a session).
		return stack, nil
	}
	// The seed's MyWeb, as a static site: one build for every stage, and the stage's
	// public values in config.json. No secret goes there: the page is public. The
	// password policy is the pool's, as the stack's topology describes the one pool
	// declared above.
	pools := stack.Topology().UserPools
	config := web.Config{
		Stage:            stage.Name,
		APIURL:           api.URL(),
		Region:           users.Region(),
		UserPoolID:       users.ID(),
		UserPoolClientID: users.ClientID(),
		SignIn:           web.SignInCognito,
		PasswordPolicy:   web.PasswordPolicy(pools[len(pools)-1].PasswordPolicy),
	}
	site, err := constructs.NewStaticSite(stack, "MyWeb", constructs.StaticSiteProps{
		Name:         "web",
		Build:        &web.Site,
		PublicConfig: publicConfig(config),
		ConnectTo:    []string{api.URL(), users.SignInOrigin()},
	})
	if err != nil {
		return nil, err
	}
	origins := []string{site.URL()}
	if !stage.Protected {
		origins = append(origins, WebDevServer)
	}
	if err := api.AllowOrigins(origins...); err != nil {
		return nil, err
	}
	stack.Output("WebUrl", site.URL(), "Address of the web app")
	stack.Output("UserPoolId", users.ID(), "Cognito user pool of the stage's users")
	stack.Output("UserPoolClientId", users.ClientID(), "Cognito app client the web app signs in with")
	return stack, nil
}

// WebDevServer is the origin of the Next.js dev server (cd web && npx next dev -p 3001),
// which an unprotected stage's API also accepts, so the page can be worked on against
// a deployed stage; dev mode's own API is on port 3000.
const WebDevServer = "http://localhost:3001"

// publicConfig is config.json's content as the site's public config: web.Config
// names the fields, and its values may be the stack's Terraform values.
func publicConfig(c web.Config) map[string]any {
	data, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("encoding a config of strings cannot fail: %v", err))
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		panic(fmt.Sprintf("decoding what was just encoded cannot fail: %v", err))
	}
	return out
}

// Config is what a synth reads from the environment.
type Config struct {
	// Stage, when set, synthesizes just that stage (STAGE); otherwise dev, staging and prod.
	Stage string
	// Region is where the stacks deploy: AWS_REGION, else the AWS profile's region
	// (the one the secrets commands use too), else us-east-1.
	Region         string
	StateBucket    string // STATE_BUCKET: keep state in S3 instead of .state/
	StateLockTable string // STATE_LOCK_TABLE: DynamoDB table locking the S3 state
	StateRegion    string // STATE_REGION: the bucket's region, when not Region
	Outdir         string // CDKTF_OUTDIR
	BuildCache     string // BUILD_CACHE_DIR: where built functions are kept between synths
	// AuthIssuer and AuthAudience (AUTH_ISSUER, AUTH_AUDIENCE, comma-separated) make the
	// API trust an identity provider of your own instead of a Cognito pool per stage.
	AuthIssuer   string
	AuthAudience []string
	// HCL also writes each stage as HCL to <Outdir>/hcl/ (synth --hcl); Terraform, when
	// set, formats it with terraform fmt.
	HCL       bool
	Terraform string
	// Alarms (ALARMS=on or off), when set, turns the stages' alarms on or off; unset,
	// each stage's own setting holds (on for prod). A protected stage keeps its alarms.
	Alarms *bool
	// AlarmEmail (ALARM_EMAIL, comma-separated) are the addresses the alarms notify.
	AlarmEmail []string
	// UserMFA (USER_MFA: OFF, OPTIONAL or ON), when set, is the user pools' TOTP
	// setting; a protected stage keeps at least OPTIONAL.
	UserMFA constructs.MFA
	// EmailSender (EMAIL_FROM and EMAIL_SES_IDENTITY_ARN, with EMAIL_REPLY_TO if you
	// like) makes the user pools send their email through that verified SES identity.
	EmailSender *constructs.EmailSender
}

// ConfigFromEnv reads Config from the environment and the AWS configuration files.
func ConfigFromEnv(ctx context.Context) (Config, error) {
	cfg := Config{
		Stage:          os.Getenv("STAGE"),
		StateBucket:    os.Getenv("STATE_BUCKET"),
		StateLockTable: os.Getenv("STATE_LOCK_TABLE"),
		StateRegion:    os.Getenv("STATE_REGION"),
		Outdir:         os.Getenv("CDKTF_OUTDIR"),
		BuildCache:     os.Getenv("BUILD_CACHE_DIR"),
		AuthIssuer:     os.Getenv("AUTH_ISSUER"),
	}
	cfg.AuthAudience = list(os.Getenv("AUTH_AUDIENCE"))
	cfg.AlarmEmail = list(os.Getenv("ALARM_EMAIL"))
	if v := os.Getenv("ALARMS"); v != "" {
		var on bool
		switch strings.ToLower(v) {
		case "on", "true", "1":
			on = true
		case "off", "false", "0":
		default:
			return Config{}, fmt.Errorf("ALARMS=%s: write ALARMS=on or ALARMS=off, or leave it unset for each stage's own setting (on for prod)", v)
		}
		cfg.Alarms = &on
	}
	cfg.UserMFA = constructs.MFA(strings.ToUpper(os.Getenv("USER_MFA")))
	if from, identity := os.Getenv("EMAIL_FROM"), os.Getenv("EMAIL_SES_IDENTITY_ARN"); from != "" || identity != "" {
		cfg.EmailSender = &constructs.EmailSender{From: from, SESIdentityARN: identity, ReplyTo: os.Getenv("EMAIL_REPLY_TO")}
	}
	// The same rule as the stage operations', so secrets are written where the stack deploys.
	aws, err := awsconfig.Load(ctx)
	if err != nil {
		return Config{}, err
	}
	cfg.Region = aws.Region
	return cfg, nil
}

// Stages returns the stages a synth covers.
func (c Config) Stages() ([]constructs.Stage, error) {
	if (c.AuthIssuer == "") != (len(c.AuthAudience) == 0) || (c.AuthIssuer != "" && !strings.HasPrefix(c.AuthIssuer, "https://")) {
		return nil, errors.New("AUTH_ISSUER (an https:// URL) and AUTH_AUDIENCE (the client ids, comma-separated) go together: set both, or neither to get a Cognito user pool per stage")
	}
	names := constructs.BuiltInStageNames()
	if c.Stage != "" {
		names = []string{c.Stage}
	}
	stages := make([]constructs.Stage, 0, len(names))
	for _, name := range names {
		s, err := constructs.LookupStage(name)
		if err != nil {
			return nil, err
		}
		if c.AuthIssuer != "" {
			s.AuthIssuer, s.AuthAudience = c.AuthIssuer, c.AuthAudience
		}
		if c.Alarms != nil {
			if !*c.Alarms && s.Protected {
				return nil, fmt.Errorf("ALARMS=off: stage %s is protected and keeps its alarms; turn them off for unprotected stages only (synthesize one with STAGE=...)", s.Name)
			}
			s.Alarms = *c.Alarms
		}
		if len(c.AlarmEmail) > 0 {
			s.AlarmEmail = c.AlarmEmail
		}
		if c.UserMFA != "" {
			if c.UserMFA == constructs.MFAOff && s.Protected {
				return nil, fmt.Errorf("USER_MFA=OFF: stage %s is protected and keeps offering TOTP; use OPTIONAL or ON", s.Name)
			}
			s.UserMFA = c.UserMFA
		}
		if c.EmailSender != nil {
			if c.EmailSender.From == "" || c.EmailSender.SESIdentityARN == "" {
				return nil, errors.New("EMAIL_FROM and EMAIL_SES_IDENTITY_ARN go together: set both to send the user pools' email through SES, or neither for Cognito's own sender")
			}
			s.EmailSender = c.EmailSender
		}
		stages = append(stages, s)
	}
	return stages, nil
}

// list splits a comma-separated setting, dropping blanks.
func list(setting string) []string {
	var out []string
	for _, v := range strings.Split(setting, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Topology declares one stage, without building or synthesizing anything, and
// returns what its stack holds: what the local dev mode runs.
func Topology(ctx context.Context, cfg Config, stageName string) (*topology.Stack, error) {
	stage, err := constructs.LookupStage(stageName)
	if err != nil {
		return nil, err
	}
	app, err := constructs.NewApp(ctx, constructs.AppProps{Name: App, Region: cfg.Region, DeclareOnly: true})
	if err != nil {
		return nil, err
	}
	var stack *constructs.Stack
	if err := app.Declare(func() (err error) {
		stack, err = Define(app, stage)
		return err
	}); err != nil {
		return nil, fmt.Errorf("defining stage %s: %w", stage.Name, err)
	}
	return stack.Topology(), nil
}

// Synth synthesizes the configured stages into one app, in one process.
func Synth(ctx context.Context, cfg Config) (*constructs.App, constructs.SynthResult, error) {
	stages, err := cfg.Stages()
	if err != nil {
		return nil, constructs.SynthResult{}, err
	}
	app, err := constructs.NewApp(ctx, constructs.AppProps{
		Name:       App,
		Outdir:     cfg.Outdir,
		Region:     cfg.Region,
		State:      constructs.StateProps{Bucket: cfg.StateBucket, LockTable: cfg.StateLockTable, Region: cfg.StateRegion},
		BuildCache: cfg.BuildCache,
		HCL:        cfg.HCL,
		Terraform:  cfg.Terraform,
	})
	if err != nil {
		return nil, constructs.SynthResult{}, err
	}
	for _, stage := range stages {
		if err := app.Declare(func() error {
			_, err := Define(app, stage)
			return err
		}); err != nil {
			return nil, constructs.SynthResult{}, fmt.Errorf("defining stage %s: %w", stage.Name, err)
		}
	}
	result, err := app.Synth()
	return app, result, err
}

// StateBackendProps says where SynthStateBackend creates the state bucket and lock table,
// and where it writes their stack.
type StateBackendProps struct {
	Region    string
	Bucket    string // default: constructs.StateBackendProps's
	LockTable string
	// Outdir receives the stack; StateDir keeps its own state, a local file: it cannot
	// live in the bucket it creates.
	Outdir   string
	StateDir string
}

// SynthStateBackend synthesizes the stack "persona-tfstate", holding the S3 bucket and
// DynamoDB table where stages keep and lock their Terraform state, and returns its
// folder. Its outputs are the settings ConfigFromEnv reads to use them, by name.
func SynthStateBackend(ctx context.Context, props StateBackendProps) (string, error) {
	app, err := constructs.NewApp(ctx, constructs.AppProps{
		Name:   App,
		Outdir: props.Outdir,
		Region: props.Region,
		State:  constructs.StateProps{Dir: props.StateDir},
	})
	if err != nil {
		return "", err
	}
	if err := app.Declare(func() error {
		// A stack of its own, protected as prod is; named for what it holds.
		stack, err := app.NewStack(constructs.Stage{Name: "tfstate", Protected: true})
		if err != nil {
			return err
		}
		state, err := constructs.NewStateBackend(stack, "StateBackend", constructs.StateBackendProps{Bucket: props.Bucket, LockTable: props.LockTable})
		if err != nil {
			return err
		}
		stack.Output("STATE_BUCKET", state.Bucket(), "The S3 bucket that keeps the stages' state")
		stack.Output("STATE_LOCK_TABLE", state.LockTable(), "The DynamoDB table that locks a stage's state while a run changes it")
		stack.Output("STATE_REGION", state.Region(), "The region of the bucket and the table")
		return nil
	}); err != nil {
		return "", fmt.Errorf("defining the state backend: %w", err)
	}
	result, err := app.Synth()
	if err != nil {
		return "", err
	}
	return result.Stacks[0].Dir, nil
}
