package constructs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatchloggroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lambdafunction"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/personabackend/app/build"
	"github.com/personabackend/app/resource"
	"github.com/personabackend/app/topology"
)

// FunctionProps describes a Go Lambda function.
type FunctionProps struct {
	// Package is the function's main package inside the module, e.g. "./lambdas/list".
	Package string
	// Name is the short name; the deployed name is "<app>-<stage>-<Name>". Default: from the id.
	Name        string
	Description string
	// MemoryMB and Timeout default to the stage's settings.
	MemoryMB int
	Timeout  time.Duration
	// Environment holds plain variables; linked resources arrive through Links.
	Environment map[string]string
	// Links gives the function access to resources.
	Links []LinkTo
}

// LinkTo links a resource with an access level.
type LinkTo struct {
	Resource Linkable
	Access   Access
}

// GoFunction is a Go Lambda function: its code built for provided.al2023 on arm64,
// an execution role that only Lambda can assume, a log group with the stage's
// retention, and a policy holding exactly the permissions of its links.
type GoFunction struct {
	stack      *Stack
	name       string
	pkg        string
	timeout    time.Duration
	scope      constructs.Construct
	lambda     lambdafunction.LambdaFunction
	policy     iamrolepolicy.IamRolePolicy
	logGroup   cloudwatchloggroup.CloudwatchLogGroup
	env        map[string]string
	statements []Statement
}

// NewGoFunction declares a function and starts building its code in the background;
// the build is waited for when the app synthesizes.
func NewGoFunction(stack *Stack, id string, props FunctionProps) (*GoFunction, error) {
	settings, err := stack.functionSettings(id, props)
	if err != nil {
		return nil, err
	}
	name, memory, timeout := settings.name, settings.memory, settings.timeout
	if !stack.app.declareOnly {
		stack.app.builder.Start(stack.app.ctx, props.Package)
	}

	scope := stack.scope(id)
	logGroup := stack.newLogGroup(scope, "logs", "/aws/lambda/"+name)
	role, err := lambdaRole(scope, settings.role)
	if err != nil {
		return nil, err
	}
	fn := &GoFunction{
		stack:   stack,
		name:    name,
		pkg:     props.Package,
		timeout: timeout,
		scope:   scope,
		env: map[string]string{
			resource.EnvApp:   stack.app.name,
			resource.EnvStage: stack.stage.Name,
		},
		statements: []Statement{{
			Actions: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			Resources: []ARN{{
				Expr: *logGroup.Arn() + ":*", Service: "logs", Resource: "log-group:/aws/lambda/" + name + ":*",
			}},
		}},
		logGroup: logGroup,
	}
	for k, v := range props.Environment {
		fn.env[k] = v
	}
	// A role's inline policy is named within the role, so the function's name does.
	fn.policy = iamrolepolicy.NewIamRolePolicy(scope, jsii.String("policy"), &iamrolepolicy.IamRolePolicyConfig{
		Name:      jsii.String(name),
		Role:      role.Id(),
		Policy:    jsii.String(fn.policyJSON()),
		Lifecycle: createBeforeDestroy(),
	})
	fn.lambda = lambdafunction.NewLambdaFunction(scope, jsii.String("function"), &lambdafunction.LambdaFunctionConfig{
		FunctionName:  jsii.String(name),
		Role:          role.Arn(),
		Runtime:       jsii.String("provided.al2023"),
		Architectures: jsii.Strings("arm64"),
		Handler:       jsii.String("bootstrap"),
		MemorySize:    jsii.Number(float64(memory)),
		Timeout:       jsii.Number(timeout.Seconds()),
		LoggingConfig: &lambdafunction.LambdaFunctionLoggingConfig{
			LogFormat: jsii.String("JSON"),
			LogGroup:  logGroup.Name(),
		},
		DependsOn: &[]cdktf.ITerraformDependable{logGroup, fn.policy},
	})
	if props.Description != "" {
		fn.lambda.SetDescription(jsii.String(props.Description))
	}
	own, err := fn.statements[0].topology("")
	if err != nil {
		return nil, fmt.Errorf("function %s: %w", name, err)
	}
	stack.topo.Functions = append(stack.topo.Functions, topology.Function{
		Name:           name,
		Role:           settings.role,
		Package:        props.Package,
		MemoryMB:       memory,
		TimeoutSeconds: int(timeout.Seconds()),
		Environment:    props.Environment,
		Policy:         []topology.Statement{own},
	})
	stack.functions = append(stack.functions, fn)
	for _, l := range props.Links {
		if err := fn.Link(l.Resource, l.Access); err != nil {
			return nil, err
		}
	}
	return fn, nil
}

// functionSettings are a function's deployed name, its role's name, its memory and
// its timeout.
type functionSettings struct {
	name, role string
	memory     int
	timeout    time.Duration
}

// functionSettings returns a function's settings: the props', else the stage's,
// within Lambda's limits, its name unique in the stack. The role's name carries the
// region too (Stack.GlobalName): IAM names are global, and a stage deployed to a
// second region would otherwise find its roles taken.
func (s *Stack) functionSettings(id string, props FunctionProps) (functionSettings, error) {
	if props.Package == "" {
		return functionSettings{}, fmt.Errorf("function %s: Package is required (the main package, e.g. ./lambdas/list)", id)
	}
	short := firstNonEmpty(props.Name, kebab(id))
	f := functionSettings{name: s.ResourceName(short), role: s.GlobalName(short), memory: props.MemoryMB, timeout: props.Timeout}
	for _, other := range s.functions {
		if other.name == f.name {
			return functionSettings{}, fmt.Errorf("function %s: another function of the stack is already named %q: give one of them another Name", id, f.name)
		}
	}
	if len(f.name) > 64 {
		return functionSettings{}, fmt.Errorf("function name %q is longer than Lambda's 64 characters: shorten the function or stage name", f.name)
	}
	if len(f.role) > 64 {
		return functionSettings{}, fmt.Errorf("function %s: its role's name %q is longer than IAM's 64 characters: shorten the function or stage name", f.name, f.role)
	}
	if f.memory == 0 {
		f.memory = s.stage.FunctionMemoryMB
	}
	if f.timeout == 0 {
		f.timeout = s.stage.FunctionTimeout
	}
	if f.memory < 128 || f.memory > 10240 {
		return functionSettings{}, fmt.Errorf("function %s: memory %d MB is outside Lambda's 128-10240 MB", f.name, f.memory)
	}
	if f.timeout < time.Second || f.timeout > 15*time.Minute || f.timeout%time.Second != 0 {
		return functionSettings{}, fmt.Errorf("function %s: timeout %s must be whole seconds within Lambda's 1s-15m", f.name, f.timeout)
	}
	return f, nil
}

// lambdaRole declares the function's execution role, which only Lambda may assume.
func lambdaRole(scope constructs.Construct, name string) (iamrole.IamRole, error) {
	assumeRole, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect":    "Allow",
			"Action":    "sts:AssumeRole",
			"Principal": map[string]string{"Service": "lambda.amazonaws.com"},
		}},
	})
	if err != nil {
		return nil, err
	}
	return iamrole.NewIamRole(scope, jsii.String("role"), &iamrole.IamRoleConfig{
		Name:             jsii.String(name),
		AssumeRolePolicy: jsii.String(string(assumeRole)),
		Lifecycle:        createBeforeDestroy(),
	}), nil
}

// Link gives the function access to r: its properties in the environment and
// exactly the permissions that access needs.
func (f *GoFunction) Link(r Linkable, access Access) error {
	if r == nil {
		return fmt.Errorf("function %s: linking a nil resource", f.name)
	}
	name := r.LinkName()
	if access == nil {
		return fmt.Errorf("function %s: link %q names no access: give one, e.g. constructs.Read", f.name, name)
	}
	if _, dup := f.env[resource.EnvName(name)]; dup {
		return fmt.Errorf("function %s: %q is linked twice: link it once with the widest access it needs", f.name, name)
	}
	grant, err := r.Link(access)
	if err != nil {
		return fmt.Errorf("function %s: %w", f.name, err)
	}
	props, err := json.Marshal(grant.Properties)
	if err != nil {
		return fmt.Errorf("function %s: encoding link %q: %w", f.name, name, err)
	}
	statements, err := topologyStatements(name, grant.Statements)
	if err != nil {
		return fmt.Errorf("function %s: link %q: %w", f.name, name, err)
	}
	if err := f.stack.offerGrants(r); err != nil {
		return fmt.Errorf("function %s: %w", f.name, err)
	}
	f.env[resource.EnvName(name)] = string(props)
	f.statements = append(f.statements, grant.Statements...)
	f.policy.SetPolicy(jsii.String(f.policyJSON()))
	topo := f.stack.topologyFunction(f.name)
	topo.Links = append(topo.Links, topology.Link{Name: name, Access: access.AccessName()})
	topo.Policy = append(topo.Policy, statements...)
	return nil
}

// topologyStatements are a link's statements as the dev mode reads them.
func topologyStatements(link string, statements []Statement) ([]topology.Statement, error) {
	out := make([]topology.Statement, 0, len(statements))
	for _, st := range statements {
		ts, err := st.topology(link)
		if err != nil {
			return nil, err
		}
		out = append(out, ts)
	}
	return out, nil
}

// offerGrants records, the first time a function links r, what each access level r
// accepts would grant, so the dev mode can name the link that allows a denied call.
func (s *Stack) offerGrants(r Linkable) error {
	name := r.LinkName()
	for _, g := range s.topo.Grants {
		if g.Link == name {
			return nil
		}
	}
	for _, access := range accessLevels {
		grant, err := r.Link(access)
		if err != nil {
			continue // an access level r does not offer
		}
		statements, err := topologyStatements(name, grant.Statements)
		if err != nil {
			return fmt.Errorf("link %q with %s access: %w", name, access.AccessName(), err)
		}
		s.topo.Grants = append(s.topo.Grants, topology.Grant{Link: name, Access: access.AccessName(), Statements: statements})
	}
	return nil
}

func (f *GoFunction) policyJSON() string {
	doc, err := json.Marshal(policyDocument(f.statements))
	if err != nil {
		panic(fmt.Sprintf("encoding a policy of plain strings cannot fail: %v", err))
	}
	return string(doc)
}

// topologyFunction returns the live topology entry of a function: the slice may
// have grown since the function was declared.
func (s *Stack) topologyFunction(name string) *topology.Function {
	for i := range s.topo.Functions {
		if s.topo.Functions[i].Name == name {
			return &s.topo.Functions[i]
		}
	}
	panic("function " + name + " is missing from its own stack's topology")
}

// Name is the deployed function name.
func (f *GoFunction) Name() string { return f.name }

// Arn is the function's ARN.
func (f *GoFunction) Arn() string { return *f.lambda.Arn() }

// Timeout is the function's timeout.
func (f *GoFunction) Timeout() time.Duration { return f.timeout }

func (f *GoFunction) invokeArn() string { return *f.lambda.InvokeArn() }

// attachCode waits for the function's build and points the function at the zip.
func (f *GoFunction) attachCode(ctx context.Context) (build.Artifact, error) {
	art, err := f.stack.app.builder.Wait(ctx, f.pkg)
	if err != nil {
		return art, fmt.Errorf("function %s: %w", f.name, err)
	}
	asset := cdktf.NewTerraformAsset(f.scope, jsii.String("code"), &cdktf.TerraformAssetConfig{
		Path:      jsii.String(art.Zip),
		Type:      cdktf.AssetType_FILE,
		AssetHash: jsii.String(art.ZipSHA256),
	})
	f.lambda.SetFilename(asset.Path())
	f.lambda.SetSourceCodeHash(jsii.String(art.SourceCodeHash()))
	vars := map[string]*string{}
	for k, v := range f.env {
		vars[k] = jsii.String(v)
	}
	f.lambda.PutEnvironment(&lambdafunction.LambdaFunctionEnvironment{Variables: &vars})
	return art, nil
}
