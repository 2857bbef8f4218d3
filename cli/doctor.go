package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsarn "github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dynamodbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/personabackend/app/build"
	"github.com/personabackend/app/cli/deployerpolicy"
	"github.com/personabackend/app/cli/terraform"
	"github.com/personabackend/app/secretstore"
	"github.com/personabackend/app/topology"
)

var doctorCommand = command{
	name:    "doctor",
	args:    "--stage STAGE [--principal ARN]",
	summary: "Check an AWS account and its credentials before a stage's first deploy (read-only)",
	details: `Checks, without changing anything, what a deploy of the stage needs from the AWS
account and the credentials in use, and says how to fix each problem:

  identity     the account, region and caller (STS)
  permissions  every action of the stage's deployer policy (see deployer-policy), simulated
               for the caller (IAM SimulatePrincipalPolicy), or for --principal
  lambda       the account's Lambda concurrency against what the stage needs
  log policy   the account's CloudWatch Logs resource policies, where API access logging
               adds its log groups (5,120 characters each, 10 per region)
  secrets      whether each declared secret has a value in SSM (no value is decrypted)
  state        the state backend: the S3 bucket (versioning) and DynamoDB lock table, or
               the local state file

It exits with status 1 when a check finds what would make a deploy fail; warnings alone
exit 0. --principal checks another identity's permissions, e.g. a CI role's, while you
run with your own credentials.

Examples:
  PROGRAM doctor --stage prod
  PROGRAM doctor --stage prod --principal arn:aws:iam::123456789012:role/ci-persona-prod`,
	run: func(ctx context.Context, t *tool, args []string) error { return t.doctor(ctx, args) },
}

// verdict is how a check came out.
type verdict int

const (
	passed verdict = iota
	warned         // worth fixing, or not checkable; a deploy may still work
	failed         // a deploy would fail
)

func (v verdict) String() string {
	return [...]string{"ok", "warn", "FAIL"}[v]
}

// finding is the outcome of one check.
type finding struct {
	check   string
	verdict verdict
	detail  string
	fix     string
}

// checkup holds what the checks share: the AWS configuration in the stack's region, the
// stage and its synthesized stack.
type checkup struct {
	t       *tool
	cfg     aws.Config
	info    StageInfo
	stack   *terraform.Config
	dir     string
	account string
}

func (t *tool) doctor(ctx context.Context, args []string) error {
	var principal string
	info, _, err := t.stageArgs("doctor", args, noArgs, func(fs *flag.FlagSet) {
		fs.StringVar(&principal, "principal", "", "the IAM role or user ARN whose permissions to check (default: the caller)")
	})
	if err != nil {
		return err
	}
	if principal != "" && !strings.HasPrefix(principal, "arn:") {
		return usagef("--principal %q is not an ARN: give the role's or user's ARN, e.g. arn:aws:iam::123456789012:role/ci-deployer", principal)
	}
	cfg, err := awsConfig(ctx)
	if err != nil {
		return err
	}
	declared, err := t.stageSecrets(info)
	if err != nil {
		return err
	}
	dir, err := t.project.Synth(ctx, info.Name)
	if err != nil {
		return fmt.Errorf("synthesizing stage %s: %w", info.Name, err)
	}
	stack, err := terraform.ReadConfig(dir)
	if err != nil {
		return err
	}
	if stack.Region() == "" {
		return fmt.Errorf("the stack of stage %s configures no AWS provider region", info.Name)
	}
	cfg.Region = stack.Region()
	c := &checkup{t: t, cfg: cfg, info: info, stack: stack, dir: dir}
	fmt.Fprintf(t.stdout, "Checking stage %s (stack %s-%s, region %s) for a deploy. Nothing is changed.\n\n",
		info.Name, t.project.App(), info.Name, stack.Region())

	id, idFinding := c.identity(ctx)
	findings := []finding{idFinding}
	if idFinding.verdict != failed {
		c.account = id.Account
		findings = append(findings, c.permissions(ctx, id, principal, declared))
	}
	findings = append(findings, c.lambdaConcurrency(ctx), c.logPolicy(ctx), c.secrets(ctx, declared), c.state(ctx))
	return report(t.stdout, info, findings)
}

// report prints the findings and fails when one of them would stop a deploy.
func report(w io.Writer, info StageInfo, findings []finding) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	counts := map[verdict]int{}
	for _, f := range findings {
		counts[f.verdict]++
		lines := strings.Split(f.detail, "\n")
		fmt.Fprintf(tw, "%s\t%s\t%s\n", f.verdict, f.check, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(tw, "\t\t%s\n", l)
		}
		if f.fix != "" {
			for i, l := range strings.Split(f.fix, "\n") {
				if i == 0 {
					l = "fix: " + l
				} else {
					l = "     " + l
				}
				fmt.Fprintf(tw, "\t\t%s\n", l)
			}
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
	if counts[failed] > 0 {
		return fmt.Errorf("%d check(s) found what would make a deploy of stage %s fail (%d warning(s)); fix them and run doctor again", counts[failed], info.Name, counts[warned])
	}
	fmt.Fprintf(w, "Nothing stops a deploy of stage %s (%d warning(s)).\n", info.Name, counts[warned])
	return nil
}

// identity tells the account and the caller.
func (c *checkup) identity(ctx context.Context) (identity, finding) {
	f := finding{check: "identity"}
	id, err := callerIdentity(ctx, c.cfg)
	if err != nil {
		f.verdict, f.detail = failed, err.Error()
		f.fix = "the credentials are not valid (expired, revoked, or for another partition): sign in again (aws sso login --profile NAME) or configure others"
		return id, f
	}
	f.detail = fmt.Sprintf("account %s, region %s, as %s", id.Account, c.cfg.Region, id.ARN)
	return id, f
}

// principalToSimulate returns the IAM ARN whose policies SimulatePrincipalPolicy reads for
// the caller: a role's for an assumed-role session (with its path, which the session ARN
// lacks), a user's as is. It says why when the caller cannot be simulated.
func principalToSimulate(ctx context.Context, client *iam.Client, caller string) (string, error) {
	parsed, err := awsarn.Parse(caller)
	if err != nil {
		return "", fmt.Errorf("the caller %q is not an ARN", caller)
	}
	switch {
	case parsed.Service == "iam" && strings.HasPrefix(parsed.Resource, "user/"):
		return caller, nil
	case parsed.Service == "sts" && strings.HasPrefix(parsed.Resource, "assumed-role/"):
		role, _, _ := strings.Cut(strings.TrimPrefix(parsed.Resource, "assumed-role/"), "/")
		out, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)})
		if err == nil && out.Role != nil {
			return aws.ToString(out.Role.Arn), nil
		}
		// Without iam:GetRole the path is unknown; most roles have none.
		return fmt.Sprintf("arn:%s:iam::%s:role/%s", parsed.Partition, parsed.AccountID, role), nil
	case parsed.Resource == "root":
		return "", errors.New("these are the account's root credentials, which IAM does not simulate and which may do anything: deploy with a role that holds the deployer policy instead")
	}
	return "", fmt.Errorf("IAM cannot simulate the policies of %s: check with --principal ROLE_ARN for the role that deploys", caller)
}

// permissions simulates every action of the stage's deployer policy for the principal.
func (c *checkup) permissions(ctx context.Context, id identity, principal string, declared []topology.Secret) finding {
	f := finding{check: "permissions"}
	policy, err := deployerpolicy.Build(deployerpolicy.Stack{
		Dir: c.dir, App: c.t.project.App(), Stage: c.info.Name, Account: id.Account,
		SecretParameters: secretParameters(declared),
	})
	if err != nil {
		f.verdict, f.detail = failed, fmt.Sprintf("the deployer policy could not be derived: %v", err)
		return f
	}
	client := iam.NewFromConfig(c.cfg)
	if principal == "" {
		if principal, err = principalToSimulate(ctx, client, id.ARN); err != nil {
			f.verdict, f.detail = warned, "not checked: "+err.Error()
			return f
		}
	}
	deployerPolicyFix := fmt.Sprintf("attach the policy that `%s deployer-policy --stage %s` prints to %s (cli/README.md: Deploying from CI)", Program, c.info.Name, principal)
	denied := map[string]string{} // action: the first resource it is denied on
	for _, s := range policy.Statement {
		decisions, err := simulate(ctx, client, principal, s)
		if isAccessDenied(err) {
			f.verdict = warned
			f.detail = fmt.Sprintf("not checked: %s may not simulate %s's policies (iam:SimulatePrincipalPolicy)", id.ARN, principal)
			f.fix = fmt.Sprintf("allow iam:SimulatePrincipalPolicy on %s, or run doctor as an administrator with --principal %s", principal, principal)
			return f
		}
		if err != nil {
			f.verdict, f.detail = warned, fmt.Sprintf("not checked: simulating %s's policies failed: %v", principal, err)
			return f
		}
		for _, d := range decisions {
			if d.allowed {
				continue
			}
			if _, seen := denied[d.action]; !seen {
				denied[d.action] = d.resource
			}
		}
	}
	total := len(policy.Actions())
	var problems []string
	if len(denied) > 0 {
		actions := slices.Sorted(maps.Keys(denied))
		shown := actions[:min(len(actions), 8)]
		lines := []string{fmt.Sprintf("%d of the %d actions a deploy of stage %s needs are denied to %s:", len(actions), total, c.info.Name, principal)}
		for _, a := range shown {
			lines = append(lines, fmt.Sprintf("  %s on %s", a, denied[a]))
		}
		if len(actions) > len(shown) {
			lines = append(lines, fmt.Sprintf("  and %d more", len(actions)-len(shown)))
		}
		problems = append(problems, strings.Join(lines, "\n"))
		f.fix = deployerPolicyFix
	}
	if own := ownStageRole(principal, c.t.project.App()+"-"+c.info.Name+"-"); own != "" {
		problems = append(problems, fmt.Sprintf("%s is named like the stage's own roles (%s*), which the deployer policy lets it manage: it could rewrite its own permissions", own, c.t.project.App()+"-"+c.info.Name+"-"))
		f.fix = strings.TrimPrefix(f.fix+"\n", "\n") + fmt.Sprintf("deploy with a role named outside %s-%s-* (e.g. ci-%s-%s)", c.t.project.App(), c.info.Name, c.t.project.App(), c.info.Name)
	}
	if len(problems) > 0 {
		f.verdict, f.detail = failed, strings.Join(problems, "\n")
		return f
	}
	f.detail = fmt.Sprintf("all %d actions a deploy of stage %s needs are allowed to %s", total, c.info.Name, principal)
	return f
}

// ownStageRole returns the role's name when principal is a role named with the stage's prefix.
func ownStageRole(principal, prefix string) string {
	parsed, err := awsarn.Parse(principal)
	if err != nil || !strings.HasPrefix(parsed.Resource, "role/") {
		return ""
	}
	name := parsed.Resource[strings.LastIndexByte(parsed.Resource, '/')+1:]
	if strings.HasPrefix(name, prefix) {
		return name
	}
	return ""
}

type decision struct {
	action, resource string
	allowed          bool
}

// simulate asks IAM whether principal may perform a statement's actions on its resources,
// with the statement's condition keys set to the values it requires.
func simulate(ctx context.Context, client *iam.Client, principal string, s deployerpolicy.Statement) ([]decision, error) {
	in := &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String(principal),
		ActionNames:     s.Action,
		ResourceArns:    s.Resource,
	}
	for operator, keys := range s.Condition {
		for key, values := range keys {
			entry := iamtypes.ContextEntry{ContextKeyName: aws.String(key), ContextKeyType: iamtypes.ContextKeyTypeEnumString, ContextKeyValues: values[:1]}
			if strings.HasPrefix(operator, "ForAllValues:") || strings.HasPrefix(operator, "ForAnyValue:") {
				entry.ContextKeyType, entry.ContextKeyValues = iamtypes.ContextKeyTypeEnumStringList, values
			}
			in.ContextEntries = append(in.ContextEntries, entry)
		}
	}
	var out []decision
	pages := iam.NewSimulatePrincipalPolicyPaginator(client, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range page.EvaluationResults {
			out = append(out, decision{
				action:   aws.ToString(r.EvalActionName),
				resource: aws.ToString(r.EvalResourceName),
				allowed:  r.EvalDecision == iamtypes.PolicyEvaluationDecisionTypeAllowed,
			})
		}
	}
	return out, nil
}

// unreservedMinimum is the concurrency Lambda keeps unreserved in every account.
const unreservedMinimum = 10

// lambdaConcurrency compares the account's Lambda concurrency with what the stage needs:
// room for its reserved concurrency, and for the bursts its API accepts.
func (c *checkup) lambdaConcurrency(ctx context.Context) finding {
	f := finding{check: "lambda"}
	functions := c.stack.Resources("aws_lambda_function")
	if len(functions) == 0 {
		f.detail = "the stage has no functions"
		return f
	}
	reserved := 0
	for _, fn := range functions {
		if n, ok := fn["reserved_concurrent_executions"].(float64); ok && n > 0 {
			reserved += int(n)
		}
	}
	burst := 0
	for _, stage := range c.stack.Resources("aws_apigatewayv2_stage") {
		if settings, ok := stage["default_route_settings"].(map[string]any); ok {
			if n, ok := settings["throttling_burst_limit"].(float64); ok {
				burst = max(burst, int(n))
			}
		}
	}
	out, err := lambda.NewFromConfig(c.cfg).GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
	if err != nil {
		return notChecked(f, "lambda:GetAccountSettings", err)
	}
	limit := int(out.AccountLimit.ConcurrentExecutions)
	unreserved := int(aws.ToInt32(out.AccountLimit.UnreservedConcurrentExecutions))
	increase := "request an increase of Lambda's \"Concurrent executions\" quota (1,000 is the usual default):\n" +
		fmt.Sprintf("aws service-quotas request-service-quota-increase --region %s --service-code lambda --quota-code L-B99A9384 --desired-value 1000", c.cfg.Region)
	needs := fmt.Sprintf("the stage's %d function(s) reserve %d", len(functions), reserved)
	if burst > 0 {
		needs += fmt.Sprintf(" and its API accepts bursts of %d requests", burst)
	}
	switch {
	case reserved > 0 && unreserved-reserved < unreservedMinimum:
		f.verdict, f.fix = failed, increase
		f.detail = fmt.Sprintf("%d concurrent executions in the account, %d unreserved; %s, which would leave fewer than the %d Lambda keeps unreserved", limit, unreserved, needs, unreservedMinimum)
	case limit < burst:
		f.verdict, f.fix = warned, increase
		f.detail = fmt.Sprintf("%d concurrent executions in the account (new accounts get 10); %s: requests beyond %d at once are throttled", limit, needs, limit)
	default:
		f.detail = fmt.Sprintf("%d concurrent executions in the account, %d unreserved; %s", limit, unreserved, needs)
	}
	return f
}

// Limits of CloudWatch Logs resource policies.
const (
	logPolicyMaxSize   = 5120
	logPoliciesMax     = 10
	logDeliveryPolicy  = "AWSLogDeliveryWrite20150319" // the policy vended log deliveries add to
	logPolicyWarnShare = 0.8
)

// logPolicy checks the room left in the account's CloudWatch Logs resource policies,
// where HTTP API access logging adds its log groups.
func (c *checkup) logPolicy(ctx context.Context) finding {
	f := finding{check: "log policy"}
	groups := c.accessLogGroups()
	if len(groups) == 0 {
		f.detail = "the stage writes no API access logs"
		return f
	}
	client := cloudwatchlogs.NewFromConfig(c.cfg)
	count := 0
	var delivery string
	var token *string
	for {
		out, err := client.DescribeResourcePolicies(ctx, &cloudwatchlogs.DescribeResourcePoliciesInput{NextToken: token})
		if err != nil {
			return notChecked(f, "logs:DescribeResourcePolicies", err)
		}
		for _, p := range out.ResourcePolicies {
			count++
			if aws.ToString(p.PolicyName) == logDeliveryPolicy {
				delivery = aws.ToString(p.PolicyDocument)
			}
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	// Groups under /aws/vendedlogs/ share one entry of the policy; any other adds its own.
	added := 0
	var own []string
	for _, g := range groups {
		if strings.HasPrefix(g, "/aws/vendedlogs/") {
			if !strings.Contains(delivery, ":log-group:/aws/vendedlogs/*") {
				added = max(added, len(`,"arn:aws:logs:`+c.cfg.Region+":"+c.account+`:log-group:/aws/vendedlogs/*"`))
			}
			continue
		}
		own = append(own, g)
		if !strings.Contains(delivery, ":log-group:"+g+":") {
			added += len(`,"arn:aws:logs:` + c.cfg.Region + ":" + c.account + ":log-group:" + g + `:log-stream:*"`)
		}
	}
	size := len(delivery)
	f.detail = fmt.Sprintf("%d of %d resource policies in %s; %s: %d of %d characters", count, logPoliciesMax, c.cfg.Region, logDeliveryPolicy, size, logPolicyMaxSize)
	if delivery == "" {
		f.detail = fmt.Sprintf("%d of %d resource policies in %s; %s does not exist yet (the first access log delivery creates it)", count, logPoliciesMax, c.cfg.Region, logDeliveryPolicy)
	}
	vended := fmt.Sprintf("name the access log groups under /aws/vendedlogs/ (%s), which share one entry of the policy", strings.Join(own, ", "))
	switch {
	case delivery == "" && count >= logPoliciesMax:
		f.verdict = failed
		f.detail += ": no room is left for it"
		f.fix = "delete a resource policy the account no longer needs (aws logs describe-resource-policies, aws logs delete-resource-policy --policy-name NAME)"
	case size+added > logPolicyMaxSize:
		f.verdict = failed
		f.detail += fmt.Sprintf("; this stage's access log groups would add about %d more, past the limit, and the API stage's deploy would fail", added)
		f.fix = "remove the entries of log groups that no longer exist from " + logDeliveryPolicy + " (aws logs put-resource-policy)"
		if len(own) > 0 {
			f.fix += ", and " + vended
		}
	case len(own) > 0:
		f.verdict = warned
		f.detail += fmt.Sprintf("; each access log group outside /aws/vendedlogs/ adds an entry that stays when its stage is removed (%s)", strings.Join(own, ", "))
		f.fix = vended
	case float64(size+added) > logPolicyWarnShare*logPolicyMaxSize:
		f.verdict = warned
		f.detail += "; it is nearly full"
		f.fix = "remove the entries of log groups that no longer exist from " + logDeliveryPolicy + " (aws logs put-resource-policy)"
	}
	return f
}

// accessLogGroups returns the names of the log groups the stack's API stages log to.
func (c *checkup) accessLogGroups() []string {
	var groups []string
	for _, stage := range c.stack.Resources("aws_apigatewayv2_stage") {
		settings, _ := stage["access_log_settings"].(map[string]any)
		ref, _ := settings["destination_arn"].(string)
		if typ, group, ok := c.stack.Referenced(ref); ok && typ == "aws_cloudwatch_log_group" {
			if name, ok := terraform.Literal(group, "name"); ok {
				groups = append(groups, name)
			}
		}
	}
	slices.Sort(groups)
	return groups
}

// secrets checks that every declared secret has a value in SSM, as deploy does.
func (c *checkup) secrets(ctx context.Context, declared []topology.Secret) finding {
	f := finding{check: "secrets"}
	if len(declared) == 0 {
		f.detail = "the stage declares no secrets"
		return f
	}
	values, err := secretstore.Sources(ctx, secretstore.NewSSM(ssm.NewFromConfig(c.cfg)), declared)
	if err != nil {
		return notChecked(f, "ssm:GetParameters", err)
	}
	var lines []string
	for _, v := range values {
		status := "set"
		switch v.Source {
		case secretstore.Missing:
			status = "missing"
		case secretstore.Fallback:
			status = "fallback"
		}
		lines = append(lines, fmt.Sprintf("%s: %s", v.Name, status))
	}
	f.detail = strings.Join(lines, ", ")
	if missing := secretstore.MissingNames(values); len(missing) > 0 {
		f.verdict = failed
		f.fix = (&secretstore.MissingError{
			Stage: c.info.Name, Names: missing, Store: "SSM Parameter Store", Stopped: "deploy would stop before terraform runs",
			Program: Program, StoreFlag: storeSSM, OwnValuesOnly: c.info.Protected,
		}).Error()
	}
	return f
}

// state checks that the stage's state backend is there: the S3 bucket (versioned) and the
// DynamoDB lock table, or where the local state file lives.
func (c *checkup) state(ctx context.Context) finding {
	f := finding{check: "state"}
	b, err := c.stack.Backend()
	if err != nil {
		f.verdict, f.detail = failed, err.Error()
		return f
	}
	switch b.Type {
	case "local":
		return c.localState(f, b)
	case "s3":
	default:
		f.verdict, f.detail = warned, fmt.Sprintf("not checked: the stack keeps its state in a %s backend", b.Type)
		return f
	}
	bucket, key, table, region := b.Setting("bucket"), b.Setting("key"), b.Setting("dynamodb_table"), b.Setting("region")
	if region == "" {
		region = c.stack.Region()
	}
	cfg := c.cfg.Copy()
	cfg.Region = region
	bootstrap := fmt.Sprintf("%s bootstrap-state --region %s --bucket %s", Program, region, bucket)
	if table != "" {
		bootstrap += " --lock-table " + table
	}
	where := fmt.Sprintf("s3://%s/%s (%s)", bucket, key, region)
	s3client := s3.NewFromConfig(cfg)
	if _, err := s3client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
		var notFound *s3types.NotFound
		if errors.As(err, &notFound) {
			f.verdict, f.detail = failed, fmt.Sprintf("the state bucket %s does not exist", bucket)
			f.fix = "create the bucket and lock table once: " + bootstrap
			return f
		}
		return notChecked(f, "s3:ListBucket on "+bucket, err)
	}
	var notes []string
	versioning, err := s3client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	switch {
	case err != nil && isAccessDenied(err):
		notes = append(notes, "its versioning was not checked (s3:GetBucketVersioning is not allowed)")
	case err != nil:
		return notChecked(f, "s3:GetBucketVersioning", err)
	case versioning.Status != s3types.BucketVersioningStatusEnabled:
		f.verdict = warned
		notes = append(notes, "versioning is off, so a damaged state cannot be rolled back")
		f.fix = fmt.Sprintf("aws s3api put-bucket-versioning --bucket %s --versioning-configuration Status=Enabled", bucket)
	default:
		notes = append(notes, "versioned")
	}
	switch {
	case table != "":
		if lock := c.lockTable(ctx, cfg, table); lock.verdict != passed {
			return lock
		}
		notes = append(notes, "lock table "+table)
	case b.Locked:
		notes = append(notes, "locked with a lock file in the bucket")
	default:
		f.verdict = failed
		notes = append(notes, "no lock table: two deploys at once could corrupt the state")
		f.fix = "set STATE_LOCK_TABLE to a DynamoDB table whose hash key is the string LockID (" + bootstrap + " creates one)"
	}
	f.detail = where + ": " + strings.Join(notes, "; ")
	return f
}

// lockTable checks that the lock table exists with terraform's key: the string LockID.
func (c *checkup) lockTable(ctx context.Context, cfg aws.Config, table string) finding {
	f := finding{check: "state"}
	out, err := dynamodb.NewFromConfig(cfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	var notFound *dynamodbtypes.ResourceNotFoundException
	if errors.As(err, &notFound) {
		f.verdict, f.detail = failed, fmt.Sprintf("the lock table %s does not exist in %s", table, cfg.Region)
		f.fix = fmt.Sprintf("aws dynamodb create-table --region %s --table-name %s --attribute-definitions AttributeName=LockID,AttributeType=S --key-schema AttributeName=LockID,KeyType=HASH --billing-mode PAY_PER_REQUEST", cfg.Region, table)
		return f
	}
	if err != nil {
		return notChecked(f, "dynamodb:DescribeTable on "+table, err)
	}
	hash, hashType := "", dynamodbtypes.ScalarAttributeType("")
	for _, k := range out.Table.KeySchema {
		if k.KeyType == dynamodbtypes.KeyTypeHash {
			hash = aws.ToString(k.AttributeName)
		}
	}
	for _, a := range out.Table.AttributeDefinitions {
		if aws.ToString(a.AttributeName) == hash {
			hashType = a.AttributeType
		}
	}
	if hash != "LockID" || hashType != dynamodbtypes.ScalarAttributeTypeS || len(out.Table.KeySchema) != 1 {
		f.verdict, f.detail = failed, fmt.Sprintf("the lock table %s is keyed by %s (%s), not by the string LockID alone that terraform writes", table, hash, hashType)
		f.fix = "give STATE_LOCK_TABLE a table whose only key is the string hash key LockID"
	}
	return f
}

// localState says where the stage's local state file is and whether the stage was
// deployed from this machine; a protected stage refuses to deploy with one.
func (c *checkup) localState(f finding, b terraform.Backend) finding {
	shown := b.StateFile
	if root, err := build.ModuleRoot("."); err == nil {
		if rel, err := filepath.Rel(root, b.StateFile); err == nil && !strings.HasPrefix(rel, "..") {
			shown = rel
		}
	}
	if _, err := os.Stat(b.StateFile); err == nil {
		f.detail = fmt.Sprintf("local file %s: the stage was deployed from this machine", shown)
	} else {
		f.detail = fmt.Sprintf("local file %s, not there yet: the stage was never deployed from this machine (if it was deployed elsewhere, that state is there, and deploy here would try to create everything again)", shown)
	}
	switch {
	case c.info.Protected:
		f.verdict = failed
		f.detail += fmt.Sprintf("; stage %s is protected, and deploy refuses a state kept in a local file", c.info.Name)
		f.fix = fmt.Sprintf("keep the state in S3: set STATE_BUCKET and STATE_LOCK_TABLE (no bucket yet? %s bootstrap-state --region %s)", Program, c.stack.Region())
	case os.Getenv("CI") != "":
		f.verdict = warned
		f.detail += "; a CI runner loses it with its workspace"
		f.fix = "keep the state in S3: set STATE_BUCKET and STATE_LOCK_TABLE"
	}
	return f
}

// notChecked is a check that AWS did not answer: a warning naming what was refused.
func notChecked(f finding, action string, err error) finding {
	f.verdict = warned
	if isAccessDenied(err) {
		f.detail = fmt.Sprintf("not checked: the credentials may not call %s", action)
		f.fix = fmt.Sprintf("allow %s, or run doctor with read access to the account", action)
		return f
	}
	f.detail = fmt.Sprintf("not checked: %s failed: %v", action, err)
	return f
}

// isAccessDenied reports whether err is AWS refusing the caller.
func isAccessDenied(err error) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode() {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Forbidden", "UnrecognizedClientException":
		return true
	}
	return false
}
