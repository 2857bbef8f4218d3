// Package constructs is a library of CDKTF constructs for serverless Go backends on AWS:
// PersonaTable, BackendApi, TaskOrchestrator, SecretSet and StaticSite, over Go
// functions and links.
//
// Its public API speaks plain Go; CDKTF and jsii stay inside this package, so the
// rest of a project does not depend on them.
package constructs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawscalleridentity"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawspartition"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/personabackend/app/build"
	"github.com/personabackend/app/internal/awsconfig"
	"github.com/personabackend/app/internal/staticsite"
	"github.com/personabackend/app/topology"
)

// AppProps configures an App.
type AppProps struct {
	// Name is the app's name: it starts every stack and resource name.
	Name string
	// Root is the Go module holding the function packages; default: found from the working directory.
	Root string
	// Outdir receives the synthesized stacks; default $CDKTF_OUTDIR, else <Root>/cdktf.out.
	Outdir string
	// Region is the AWS region of every stack; default $AWS_REGION, else the AWS
	// profile's region, else us-east-1 (package awsconfig's rule, which every command uses).
	Region string
	// State says where each stage keeps its Terraform state.
	State StateProps
	// BuildCache keeps built functions between synths; default <Root>/.build/lambda.
	BuildCache string
	// SiteCache keeps built static sites between synths; default <Root>/.build/site.
	SiteCache string
	// DeclareOnly declares the stacks without building any function, for tools that
	// need only their topology; such an app cannot synthesize.
	DeclareOnly bool
	// HCL also writes each stack as HCL, in <Outdir>/hcl/<stack>/cdk.tf, rendered by
	// CDKTF, repaired and checked against the stack's JSON.
	HCL bool
	// Terraform is the terraform binary that formats the HCL (terraform fmt); when
	// empty, hclwrite, the formatter terraform fmt builds on, formats it.
	Terraform string
}

// StateProps chooses the Terraform backend. With Bucket empty each stage keeps a local
// state file in Dir; otherwise state lives in S3 under "<app>/<stage>/terraform.tfstate",
// encrypted, locked through the DynamoDB table LockTable.
type StateProps struct {
	Dir       string // default <Root>/.state
	Bucket    string
	LockTable string
	Region    string // the bucket's region; default the app's region
}

// App holds one stack per stage and synthesizes them together, in one process.
type App struct {
	name    string
	root    string
	outdir  string
	region  string
	state   StateProps
	cdk     cdktf.App
	builder *build.Builder
	sites   *build.SiteBuilder
	ctx     context.Context
	stacks  []*Stack
	started time.Time
	// declareOnly skips function builds: see AppProps.DeclareOnly.
	declareOnly bool
	hcl         bool
	terraform   string
	// siteScans are the site folders read so far, shared by the stages serving them.
	siteScans map[string]*staticsite.Scan
}

var appNamePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,19}$`)

// NewApp validates props and prepares an app; no stack exists until NewStack.
func NewApp(ctx context.Context, props AppProps) (*App, error) {
	silenceNodeEndOfLife()
	if !appNamePattern.MatchString(props.Name) {
		return nil, fmt.Errorf("invalid app name %q: use 1-20 lowercase letters, digits and hyphens, starting with a letter", props.Name)
	}
	root := props.Root
	if root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		if root, err = build.ModuleRoot(wd); err != nil {
			return nil, err
		}
	}
	outdir := firstNonEmpty(props.Outdir, os.Getenv("CDKTF_OUTDIR"), filepath.Join(root, "cdktf.out"))
	outdir, err := filepath.Abs(outdir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(outdir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the output folder: %w", err)
	}
	region := props.Region
	if region == "" {
		aws, err := awsconfig.Load(ctx)
		if err != nil {
			return nil, err
		}
		region = aws.Region
	}
	state := props.State
	state.Dir = firstNonEmpty(state.Dir, filepath.Join(root, ".state"))
	state.Region = firstNonEmpty(state.Region, region)
	// The jsii runtime hands CDKTF this process's environment as it was at start-up.
	if v := os.Getenv("SYNTH_HCL_OUTPUT"); !props.DeclareOnly && (v == "true" || v == "1") {
		return nil, errors.New("SYNTH_HCL_OUTPUT is set (cdktf synth --hcl sets it): CDKTF would write cdk.tf instead of the cdk.tf.json that deploy runs, and its own HCL is not valid for these stacks. Unset it, and write HCL beside the JSON with: go run . synth --hcl")
	}
	if state.Bucket != "" && state.LockTable == "" {
		return nil, errors.New("a state bucket needs a lock table: set STATE_LOCK_TABLE to a DynamoDB table whose hash key is the string LockID")
	}
	return &App{
		name:    props.Name,
		root:    root,
		outdir:  outdir,
		region:  region,
		state:   state,
		builder: build.NewBuilder(root, firstNonEmpty(props.BuildCache, filepath.Join(root, ".build", "lambda")), build.Lambda),
		sites:   build.NewSiteBuilder(root, firstNonEmpty(props.SiteCache, filepath.Join(root, ".build", "site"))),
		ctx:     ctx,
		started: time.Now(),

		declareOnly: props.DeclareOnly,
		hcl:         props.HCL,
		terraform:   props.Terraform,
	}, nil
}

// Name is the app's name.
func (a *App) Name() string { return a.name }

// Outdir is where Synth writes the stacks.
func (a *App) Outdir() string { return a.outdir }

func (a *App) cdkApp() cdktf.App {
	if a.cdk == nil {
		a.cdk = cdktf.NewApp(&cdktf.AppConfig{
			Outdir:      jsii.String(a.outdir),
			StackTraces: jsii.Bool(false),
		})
	}
	return a.cdk
}

// Stack is one stage of the app: its resources, provider, backend and outputs.
type Stack struct {
	app       *App
	stack     cdktf.TerraformStack
	stage     Stage
	topo      *topology.Stack
	functions []*GoFunction
	sites     []*StaticSite
	account   *string
	partition dataawspartition.DataAwsPartition
	moves     moveSet
}

// NewStack adds the stack "<app>-<stage>" with the AWS provider (tagging every
// resource with app and stage) and the stage's own Terraform state.
func (a *App) NewStack(stage Stage) (*Stack, error) {
	if err := ValidateStageName(stage.Name); err != nil {
		return nil, err
	}
	if err := stage.validate(); err != nil {
		return nil, err
	}
	name := a.name + "-" + stage.Name
	for _, s := range a.stacks {
		if s.stage.Name == stage.Name {
			return nil, fmt.Errorf("stage %q is defined twice", stage.Name)
		}
	}
	tfStack := cdktf.NewTerraformStack(a.cdkApp(), jsii.String(name))
	provider.NewAwsProvider(tfStack, jsii.String("aws"), &provider.AwsProviderConfig{
		Region: jsii.String(a.region),
		DefaultTags: &[]*provider.AwsProviderDefaultTags{{
			Tags: &map[string]*string{
				"app":        jsii.String(a.name),
				"stage":      jsii.String(stage.Name),
				"managed-by": jsii.String("terraform"),
			},
		}},
	})
	if a.state.Bucket != "" {
		cdktf.NewS3Backend(tfStack, &cdktf.S3BackendConfig{
			Bucket:        jsii.String(a.state.Bucket),
			Key:           jsii.String(fmt.Sprintf("%s/%s/terraform.tfstate", a.name, stage.Name)),
			Region:        jsii.String(a.state.Region),
			Encrypt:       jsii.Bool(true),
			DynamodbTable: jsii.String(a.state.LockTable),
		})
	} else {
		// Terraform runs in the stack's folder, so the state path is relative to it:
		// the synthesized JSON then holds no machine-specific absolute path.
		stackDir := filepath.Join(a.outdir, "stacks", name)
		rel, err := filepath.Rel(stackDir, filepath.Join(a.state.Dir, name+".tfstate"))
		if err != nil {
			return nil, fmt.Errorf("locating the state file of %s: %w", name, err)
		}
		cdktf.NewLocalBackend(tfStack, &cdktf.LocalBackendConfig{Path: jsii.String(filepath.ToSlash(rel))})
	}
	s := &Stack{
		app:   a,
		stack: tfStack,
		stage: stage,
		topo:  &topology.Stack{App: a.name, Stage: stage.Name, Region: a.region},
	}
	a.stacks = append(a.stacks, s)
	return s, nil
}

// Name is the stack's name, "<app>-<stage>".
func (s *Stack) Name() string { return s.app.name + "-" + s.stage.Name }

// Stage is the stage this stack deploys.
func (s *Stack) Stage() Stage { return s.stage }

// Topology describes what the stack declares so far.
func (s *Stack) Topology() *topology.Stack { return s.topo }

// ResourceName is the name of a resource of this stack: "<app>-<stage>-<name>".
func (s *Stack) ResourceName(name string) string { return s.Name() + "-" + name }

// GlobalName is the name of a resource whose name AWS keeps unique across all the
// regions of an account, "<app>-<stage>-<region>-<name>", so that one stage can be
// deployed to a second region without a name clash: IAM roles, and CloudFront's
// functions, key value stores, origin access controls and policies. The region is
// written out, as the console and an ARN write it, rather than abbreviated: with a
// 20-character stage and the longest region names (14 characters, ap-southeast-4)
// the prefix is 44 characters for a 7-character app name, which leaves 20 for the
// name within the 64 that IAM roles and CloudFront functions allow.
func (s *Stack) GlobalName(name string) string {
	return s.Name() + "-" + s.app.region + "-" + name
}

// Output declares a Terraform output of the stack.
func (s *Stack) Output(name, value, description string) {
	cdktf.NewTerraformOutput(s.stack, jsii.String(name), &cdktf.TerraformOutputConfig{
		Value:       jsii.String(value),
		Description: jsii.String(description),
	})
}

func (s *Stack) scope(id string) constructs.Construct {
	return constructs.NewConstruct(s.stack, jsii.String(id))
}

// lifecycle keeps a protected stage's data from being destroyed by Terraform.
func (s *Stack) lifecycle() *cdktf.TerraformResourceLifecycle {
	if !s.stage.Protected {
		return nil
	}
	return &cdktf.TerraformResourceLifecycle{PreventDestroy: jsii.Bool(true)}
}

// createBeforeDestroy is the lifecycle of a resource that others use and that only a
// new name replaces: Terraform creates the new one and moves its users onto it before
// it destroys the old one, so the two never clash and nothing is left without it.
// CloudFront refuses to delete a function or key value store still in use, and a
// function whose role went first would run without its permissions.
func createBeforeDestroy() *cdktf.TerraformResourceLifecycle {
	return &cdktf.TerraformResourceLifecycle{CreateBeforeDestroy: jsii.Bool(true)}
}

func (s *Stack) accountID() string {
	if s.account == nil {
		s.account = dataawscalleridentity.NewDataAwsCallerIdentity(s.stack, jsii.String("caller"), nil).AccountId()
	}
	return *s.account
}

func (s *Stack) partitionData() dataawspartition.DataAwsPartition {
	if s.partition == nil {
		s.partition = dataawspartition.NewDataAwsPartition(s.stack, jsii.String("partition"), nil)
	}
	return s.partition
}

func (s *Stack) partitionName() string { return *s.partitionData().Partition() }

// dnsSuffix is the domain of AWS endpoints in this stack's partition, e.g. amazonaws.com.
func (s *Stack) dnsSuffix() string { return *s.partitionData().DnsSuffix() }

// arn builds an ARN in this stack's partition, region and account.
func (s *Stack) arn(service, resource string) ARN {
	return ARN{
		Expr:    fmt.Sprintf("arn:%s:%s:%s:%s:%s", s.partitionName(), service, s.app.region, s.accountID(), resource),
		Service: service, Resource: resource,
	}
}

// SynthResult reports what Synth wrote.
type SynthResult struct {
	Stacks    []StackResult
	Functions []build.Artifact
	// HCLFormatter says what formatted the HCL files, when AppProps.HCL asked for them.
	HCLFormatter string
	Sites        []SiteResult
	// Duration runs from NewApp to the last file written.
	Duration time.Duration
}

// SiteResult is one static site folder the stacks serve.
type SiteResult struct {
	Dir   string
	Files int
	Bytes int64
	// Build is set when synth built the site (StaticSiteProps.Build).
	Build *build.SiteArtifact
}

// StackResult is one synthesized stack.
type StackResult struct {
	Name      string
	Dir       string // holds cdk.tf.json, topology.json and assets/
	Resources int
	// HCL is the stack as HCL (AppProps.HCL), in a folder of its own beside Dir:
	// terraform reads every .tf and .tf.json of a folder, so the two cannot share one.
	HCL string
}

// Synth builds every function and reads every site, then writes each stack's
// Terraform JSON, its assets and its topology.json under Outdir/stacks/<stack>/
// (and its HCL under Outdir/hcl/<stack>/ when asked). Stack folders left from earlier
// synths are removed: Outdir holds the stacks that its manifest.json lists.
func (a *App) Synth() (result SynthResult, err error) {
	if len(a.stacks) == 0 {
		return result, errors.New("nothing to synthesize: the app has no stack")
	}
	if a.declareOnly {
		return result, errors.New("this app was declared without building its functions (DeclareOnly), so it cannot synthesize")
	}
	artifacts := map[string]build.Artifact{}
	sites := map[string]SiteResult{}
	attach := func() error {
		for _, s := range a.stacks {
			for _, fn := range s.functions {
				art, err := fn.attachCode(a.ctx)
				if err != nil {
					return err
				}
				artifacts[art.Package] = art
			}
			for _, site := range s.sites {
				scan, built, err := site.attachFiles(a.ctx)
				if err != nil {
					return err
				}
				sites[scan.Dir] = SiteResult{Dir: scan.Dir, Files: len(scan.Files), Bytes: scan.Bytes, Build: built}
			}
		}
		return nil
	}
	if err := a.Declare(attach); err != nil {
		return result, fmt.Errorf("attaching function code (Synth runs once per App): %w", err)
	}
	for _, pkg := range slices.Sorted(maps.Keys(artifacts)) {
		result.Functions = append(result.Functions, artifacts[pkg])
	}
	for _, dir := range slices.Sorted(maps.Keys(sites)) {
		result.Sites = append(result.Sites, sites[dir])
	}
	for _, s := range a.stacks {
		if err := a.Declare(s.applyMoves); err != nil {
			return result, err
		}
	}
	if err := catchJSII(func() { a.cdkApp().Synth() }); err != nil {
		return result, fmt.Errorf("synthesizing: %w", err)
	}
	for _, s := range a.stacks {
		sr, err := s.writeResult()
		if err != nil {
			return result, err
		}
		if a.hcl {
			if sr.HCL, result.HCLFormatter, err = s.writeHCL(sr.Dir); err != nil {
				return result, err
			}
		}
		result.Stacks = append(result.Stacks, sr)
	}
	if err := a.removeStaleStacks(); err != nil {
		return result, err
	}
	result.Duration = time.Since(a.started)
	return result, nil
}

// removeStaleStacks removes the folders under Outdir/stacks and Outdir/hcl that this
// synth did not write, such as dev's after a synth of only STAGE=alice, or every HCL
// folder after a synth without HCL.
func (a *App) removeStaleStacks() error {
	for folder, wrote := range map[string]bool{"stacks": true, "hcl": a.hcl} {
		dir := filepath.Join(a.outdir, folder)
		if !wrote {
			if err := os.RemoveAll(dir); err != nil {
				return fmt.Errorf("removing the stale %s: %w", dir, err)
			}
			continue
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("listing the synthesized stacks: %w", err)
		}
		for _, e := range entries {
			if slices.ContainsFunc(a.stacks, func(s *Stack) bool { return s.Name() == e.Name() }) {
				continue
			}
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("removing the stale stack %s: %w", filepath.Join(folder, e.Name()), err)
			}
		}
	}
	return nil
}

func (s *Stack) writeResult() (StackResult, error) {
	dir := filepath.Join(s.app.outdir, "stacks", s.Name())
	data, err := os.ReadFile(filepath.Join(dir, "cdk.tf.json"))
	if err != nil {
		return StackResult{}, fmt.Errorf("reading the synthesized %s: %w", s.Name(), err)
	}
	var doc struct {
		Resource map[string]map[string]json.RawMessage `json:"resource"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return StackResult{}, fmt.Errorf("reading the synthesized %s: %w", s.Name(), err)
	}
	count := 0
	for _, byName := range doc.Resource {
		count += len(byName)
	}
	topo, err := json.MarshalIndent(s.topo, "", "  ")
	if err != nil {
		return StackResult{}, err
	}
	if err := os.WriteFile(filepath.Join(dir, topology.FileName), append(topo, '\n'), 0o644); err != nil {
		return StackResult{}, fmt.Errorf("writing the topology of %s: %w", s.Name(), err)
	}
	return StackResult{Name: s.Name(), Dir: dir, Resources: count}, nil
}

// Close ends the jsii runtime that declaring and synthesizing run in (a Node process
// of several hundred MB) and removes the folder it unpacked itself into. Call it once
// no construct is declared or synthesized any more: after reading a topology, and
// before the program exits. A later declaration starts a new runtime.
func Close() {
	// jsii-runtime-go v1.106.0 waits for its Node process twice, once in Close and once
	// in a goroutine started with it; whichever loses reports "Runtime process exited
	// abnormally: waitid: no child processes" on stderr although Node exited cleanly.
	// The report comes while Close removes the runtime's folder, so what jsii writes to
	// stderr meanwhile is passed on without it.
	r, w, err := os.Pipe()
	if err != nil {
		jsii.Close()
		return
	}
	captured := make(chan []byte)
	go func() {
		out, _ := io.ReadAll(r)
		r.Close()
		captured <- out
	}()
	stderr := os.Stderr
	os.Stderr = w
	jsii.Close()
	os.Stderr = stderr
	w.Close()
	if rest := doubleWait.ReplaceAll(<-captured, nil); len(rest) > 0 {
		stderr.Write(rest)
	}
}

// doubleWait is jsii's report of losing the race to wait for its own process.
var doubleWait = regexp.MustCompile(`Runtime process exited abnormally: waitid: no child processes\n?`)

// Declare runs fn, which declares constructs, and returns its error or the error
// CDKTF raised while it ran (CDKTF reports invalid configuration, such as two
// constructs with one id, by panicking).
func (a *App) Declare(fn func() error) error {
	var err error
	if perr := catchJSII(func() { err = fn() }); perr != nil {
		return perr
	}
	return err
}

// catchJSII turns a panic raised by the jsii runtime (how CDKTF reports invalid
// configuration) into an error.
func catchJSII(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	fn()
	return nil
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// kebab turns a construct id such as "PersonaQueue" into "persona-queue".
func kebab(id string) string {
	var b strings.Builder
	for i, r := range id {
		switch {
		case r >= 'A' && r <= 'Z':
			if i > 0 && b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
			b.WriteRune(r + ('a' - 'A'))
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
		}
	}
	return strings.Trim(b.String(), "-")
}
