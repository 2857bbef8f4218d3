package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dynamodbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/personabackend/app/internal/localaws/localawstest"
)

// Doctor's checks run against moto's server where moto implements the call: STS
// (GetCallerIdentity, and AssumeRole to act as a CI role), IAM GetRole, SSM
// GetParameters, S3 HeadBucket and GetBucketVersioning, DynamoDB DescribeTable and
// CloudWatch Logs DescribeResourcePolicies. moto 5.2 implements neither IAM's
// SimulatePrincipalPolicy nor Lambda's GetAccountSettings: those two are answered by the
// test doubles below, labelled as such, which speak the services' wire protocols.

// simulationDouble is a TEST DOUBLE of IAM's SimulatePrincipalPolicy (IAM's query
// protocol): it allows every action but those in denied, and records each request. Every
// other IAM call goes through to moto.
type simulationDouble struct {
	mu       sync.Mutex
	denied   map[string]bool
	refuse   bool // answer AccessDenied, as IAM does to a caller without the permission
	requests []url.Values
}

func (d *simulationDouble) ServeHTTP(w http.ResponseWriter, r *http.Request, moto http.Handler) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("Action") != "SimulatePrincipalPolicy" {
		moto.ServeHTTP(w, r)
		return
	}
	r.PostForm = form
	d.mu.Lock()
	defer d.mu.Unlock()
	d.requests = append(d.requests, r.PostForm)
	w.Header().Set("Content-Type", "text/xml")
	if d.refuse {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform: iam:SimulatePrincipalPolicy</Message></Error><RequestId>double</RequestId></ErrorResponse>`)
		return
	}
	var results strings.Builder
	for i := 1; r.PostForm.Get(fmt.Sprintf("ActionNames.member.%d", i)) != ""; i++ {
		action := r.PostForm.Get(fmt.Sprintf("ActionNames.member.%d", i))
		for j := 1; r.PostForm.Get(fmt.Sprintf("ResourceArns.member.%d", j)) != ""; j++ {
			decision := "allowed"
			if d.denied[action] {
				decision = "implicitDeny"
			}
			fmt.Fprintf(&results, "<member><EvalActionName>%s</EvalActionName><EvalResourceName>%s</EvalResourceName><EvalDecision>%s</EvalDecision></member>",
				action, r.PostForm.Get(fmt.Sprintf("ResourceArns.member.%d", j)), decision)
		}
	}
	fmt.Fprintf(w, `<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><SimulatePrincipalPolicyResult><IsTruncated>false</IsTruncated><EvaluationResults>%s</EvaluationResults></SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>double</RequestId></ResponseMetadata></SimulatePrincipalPolicyResponse>`, results.String())
}

// principals returns the PolicySourceArn of every simulation asked for.
func (d *simulationDouble) principals() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, r := range d.requests {
		out = append(out, r.Get("PolicySourceArn"))
	}
	return slices.Compact(out)
}

// lambdaSettingsDouble is a TEST DOUBLE of Lambda's GetAccountSettings (Lambda's REST JSON
// protocol), answering with the given account concurrency.
func lambdaSettingsDouble(t *testing.T, concurrency, unreserved int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/2016-08-19/account-settings") {
			http.Error(w, `{"message":"the double answers GetAccountSettings alone"}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"AccountLimit": map[string]any{"ConcurrentExecutions": concurrency, "UnreservedConcurrentExecutions": unreserved,
				"TotalCodeSize": 80530636800, "CodeSizeUnzipped": 262144000, "CodeSizeZipped": 52428800},
			"AccountUsage": map[string]any{"TotalCodeSize": 0, "FunctionCount": 0},
		})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// doctorAWS is the AWS a doctor test runs against: moto, with the two doubles in front.
type doctorAWS struct {
	cfg        aws.Config
	simulation *simulationDouble
}

func useDoctorAWS(t *testing.T, concurrency int) *doctorAWS {
	t.Helper()
	endpoint := useMoto(t)
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	moto := httputil.NewSingleHostReverseProxy(target)
	sim := &simulationDouble{denied: map[string]bool{}}
	iamSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sim.ServeHTTP(w, r, moto) }))
	t.Cleanup(iamSrv.Close)
	t.Setenv("AWS_ENDPOINT_URL_IAM", iamSrv.URL)
	t.Setenv("AWS_ENDPOINT_URL_LAMBDA", lambdaSettingsDouble(t, concurrency, concurrency))
	cfg := localawstest.Config()
	cfg.BaseEndpoint = aws.String(endpoint)
	cfg.Region = "eu-west-1" // the test stacks' region
	return &doctorAWS{cfg: cfg, simulation: sim}
}

// actAs makes the tool run as a session of the role (created in moto with path), as a CI
// job that assumed it does.
func (a *doctorAWS) actAs(t *testing.T, path, role string) string {
	t.Helper()
	ctx := context.Background()
	created, err := iam.NewFromConfig(a.cfg).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String(role), Path: aws.String(path), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := sts.NewFromConfig(a.cfg).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: created.Role.Arn, RoleSessionName: aws.String("ci")})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", aws.ToString(out.Credentials.AccessKeyId))
	t.Setenv("AWS_SECRET_ACCESS_KEY", aws.ToString(out.Credentials.SecretAccessKey))
	t.Setenv("AWS_SESSION_TOKEN", aws.ToString(out.Credentials.SessionToken))
	return aws.ToString(created.Role.Arn)
}

func (a *doctorAWS) setParameter(t *testing.T, name string) {
	t.Helper()
	if _, err := ssm.NewFromConfig(a.cfg).PutParameter(context.Background(), &ssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String("s3cr3t"), Type: ssmtypes.ParameterTypeSecureString,
	}); err != nil {
		t.Fatal(err)
	}
}

// doctorStack is a stage shaped like the app's: two functions with their roles, an API
// stage with access logs and a burst limit.
func doctorStack(stage string) map[string]any {
	prefix := "persona-" + stage
	return map[string]any{
		"aws_iam_role": map[string]any{"list": map[string]any{"name": prefix + "-list"}, "worker": map[string]any{"name": prefix + "-worker"}},
		"aws_lambda_function": map[string]any{
			"list":   map[string]any{"function_name": prefix + "-list", "role": "${aws_iam_role.list.arn}"},
			"worker": map[string]any{"function_name": prefix + "-worker", "role": "${aws_iam_role.worker.arn}"},
		},
		"aws_cloudwatch_log_group": map[string]any{"access": map[string]any{"name": "/aws/apigateway/" + prefix + "-api"}},
		"aws_apigatewayv2_stage": map[string]any{"default": map[string]any{
			"name":                   "$default",
			"access_log_settings":    map[string]any{"destination_arn": "${aws_cloudwatch_log_group.access.arn}"},
			"default_route_settings": map[string]any{"throttling_burst_limit": 50, "throttling_rate_limit": 100},
		}},
	}
}

// doctorLine finds the report's line of a check, as "verdict check detail".
func doctorLine(t *testing.T, out, check string) string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^(ok|warn|FAIL) +` + regexp.QuoteMeta(check) + ` +(.*)$`)
	m := re.FindString(out)
	if m == "" {
		t.Fatalf("the report has no %s line:\n%s", check, out)
	}
	return strings.Join(strings.Fields(m), " ")
}

func TestDoctorPassesAnAccountReadyForTheStage(t *testing.T) {
	p := newAWSProject(t, "MyApiKey")
	p.resources = doctorStack("dev")
	a := useDoctorAWS(t, 1000)
	a.setParameter(t, "/persona/dev/MyApiKey")
	role := a.actAs(t, "/ci/", "ci-persona-dev")
	t.Setenv("CI", "") // run as from a workstation: on a CI runner a local state is a warning

	r := mustRun(t, p, "doctor", "--stage", "dev")
	for check, want := range map[string]string{
		"identity":    "ok identity account 123456789012, region eu-west-1, as arn:aws:sts::123456789012:assumed-role/ci-persona-dev/ci",
		"permissions": "ok permissions all ",
		"lambda":      "ok lambda 1000 concurrent executions in the account, 1000 unreserved; the stage's 2 function(s) reserve 0 and its API accepts bursts of 50 requests",
		"secrets":     "ok secrets MyApiKey: set",
		"state":       "ok state local file .state/persona-dev.tfstate, not there yet: the stage was never deployed from this machine",
	} {
		if got := doctorLine(t, r.stdout, check); !strings.HasPrefix(got, want) {
			t.Errorf("%s line = %q, want it to start with %q", check, got, want)
		}
	}
	// An access log group outside /aws/vendedlogs/ grows the account's log policy.
	assertContains(t, "log policy", doctorLine(t, r.stdout, "log policy"), "warn log policy 0 of 10 resource policies in eu-west-1",
		"each access log group outside /aws/vendedlogs/ adds an entry")
	assertContains(t, "report", r.stdout, "Nothing stops a deploy of stage dev (1 warning(s)).")
	// The role's path is not in the session's ARN: GetRole gives it.
	if got := a.simulation.principals(); !slices.Equal(got, []string{role}) || !strings.Contains(role, "/ci/") {
		t.Errorf("simulated %v, want the role %s", got, role)
	}
}

func TestDoctorFailsWhatWouldStopADeployAndSaysHowToFixIt(t *testing.T) {
	p := newAWSProject(t, "MyApiKey")
	p.resources = doctorStack("dev")
	a := useDoctorAWS(t, 10)
	a.simulation.denied = map[string]bool{"lambda:CreateFunction": true, "iam:PassRole": true}
	a.actAs(t, "/", "persona-dev-deployer")
	full := `{"Version":"2012-10-17","Statement":[{"Sid":"AWSLogDeliveryWrite","Effect":"Allow","Principal":{"Service":"delivery.logs.amazonaws.com"},"Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":[` +
		strings.Repeat(`"arn:aws:logs:eu-west-1:123456789012:log-group:/aws/apigateway/gone-stage-api:log-stream:*",`, 55) + `"arn:aws:logs:eu-west-1:123456789012:log-group:x:*"]}]}`
	if _, err := cloudwatchlogs.NewFromConfig(a.cfg).PutResourcePolicy(context.Background(), &cloudwatchlogs.PutResourcePolicyInput{
		PolicyName: aws.String("AWSLogDeliveryWrite20150319"), PolicyDocument: aws.String(full),
	}); err != nil {
		t.Fatal(err)
	}

	t.Setenv("CI", "true") // as on a CI runner, where a local state is lost with the workspace
	r := mustFail(t, p, "", "doctor", "--stage", "dev")
	if r.code != 1 {
		t.Errorf("exit code %d, want 1", r.code)
	}
	assertContains(t, "report", r.stdout,
		"2 of the ", " actions a deploy of stage dev needs are denied to arn:aws:iam::123456789012:role/persona-dev-deployer:",
		"  iam:PassRole on arn:aws:iam::123456789012:role/persona-dev-list",
		"  lambda:CreateFunction on arn:aws:lambda:eu-west-1:123456789012:function:persona-dev-*",
		"fix: attach the policy that `go run . deployer-policy --stage dev` prints to arn:aws:iam::123456789012:role/persona-dev-deployer",
		"persona-dev-deployer is named like the stage's own roles (persona-dev-*)", "deploy with a role named outside persona-dev-* (e.g. ci-persona-dev)",
		"10 concurrent executions in the account (new accounts get 10); the stage's 2 function(s) reserve 0 and its API accepts bursts of 50 requests",
		"--service-code lambda --quota-code L-B99A9384 --desired-value 1000",
		"this stage's access log groups would add about", "name the access log groups under /aws/vendedlogs/ (/aws/apigateway/persona-dev-api)",
		"go run . secrets set MyApiKey --stage dev --store ssm",
		"a CI runner loses it with its workspace", "fix: keep the state in S3: set STATE_BUCKET and STATE_LOCK_TABLE")
	for _, check := range []string{"permissions", "log policy", "secrets"} {
		if line := doctorLine(t, r.stdout, check); !strings.HasPrefix(line, "FAIL ") {
			t.Errorf("%s: %q, want FAIL", check, line)
		}
	}
	if line := doctorLine(t, r.stdout, "lambda"); !strings.HasPrefix(line, "warn ") {
		t.Errorf("lambda: %q, want a warning (a deploy works, bursts are throttled)", line)
	}
	assertContains(t, "error", r.stderr, "3 check(s) found what would make a deploy of stage dev fail (2 warning(s))")
}

func TestDoctorChecksAnotherPrincipalAndSaysWhenItMayNotSimulate(t *testing.T) {
	p := newAWSProject(t)
	p.resources = doctorStack("dev")
	a := useDoctorAWS(t, 1000)

	ci := "arn:aws:iam::123456789012:role/deploy/ci-persona-dev"
	mustRun(t, p, "doctor", "--stage", "dev", "--principal", ci)
	if got := a.simulation.principals(); !slices.Equal(got, []string{ci}) {
		t.Errorf("simulated %v, want %s", got, ci)
	}

	a.simulation.refuse = true
	r := mustRun(t, p, "doctor", "--stage", "dev", "--principal", ci)
	assertContains(t, "permissions", doctorLine(t, r.stdout, "permissions"), "warn permissions not checked: ", "may not simulate "+ci+"'s policies (iam:SimulatePrincipalPolicy)")
	assertContains(t, "report", r.stdout, "fix: allow iam:SimulatePrincipalPolicy on "+ci+", or run doctor as an administrator with --principal "+ci)

	bad := mustFail(t, p, "", "doctor", "--stage", "dev", "--principal", "ci-persona-dev")
	assertContains(t, "usage error", bad.stderr, `--principal "ci-persona-dev" is not an ARN`)
}

func TestDoctorChecksTheStateBucketAndLockTable(t *testing.T) {
	p := newAWSProject(t)
	a := useDoctorAWS(t, 1000)
	ctx := context.Background()
	p.backend = map[string]any{"s3": map[string]any{"bucket": "acme-state", "key": "persona/dev/terraform.tfstate", "region": "eu-west-1", "dynamodb_table": "acme-locks"}}

	missing := mustFail(t, p, "", "doctor", "--stage", "dev")
	assertContains(t, "state", doctorLine(t, missing.stdout, "state"), "FAIL state the state bucket acme-state does not exist")
	assertContains(t, "fix", missing.stdout, "fix: create the bucket and lock table once: go run . bootstrap-state --region eu-west-1 --bucket acme-state --lock-table acme-locks")

	s3client := s3.NewFromConfig(a.cfg)
	if _, err := s3client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("acme-state"),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraintEuWest1}}); err != nil {
		t.Fatal(err)
	}
	noTable := mustFail(t, p, "", "doctor", "--stage", "dev")
	assertContains(t, "state", noTable.stdout, "FAIL  state", "the lock table acme-locks does not exist in eu-west-1",
		"aws dynamodb create-table --region eu-west-1 --table-name acme-locks --attribute-definitions AttributeName=LockID,AttributeType=S")

	db := dynamodb.NewFromConfig(a.cfg)
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("acme-locks"), BillingMode: dynamodbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []dynamodbtypes.AttributeDefinition{{AttributeName: aws.String("LockID"), AttributeType: dynamodbtypes.ScalarAttributeTypeS}},
		KeySchema:            []dynamodbtypes.KeySchemaElement{{AttributeName: aws.String("LockID"), KeyType: dynamodbtypes.KeyTypeHash}},
	}); err != nil {
		t.Fatal(err)
	}
	unversioned := mustRun(t, p, "doctor", "--stage", "dev")
	assertContains(t, "state", doctorLine(t, unversioned.stdout, "state"), "warn state s3://acme-state/persona/dev/terraform.tfstate (eu-west-1): versioning is off", "lock table acme-locks")
	assertContains(t, "fix", unversioned.stdout, "aws s3api put-bucket-versioning --bucket acme-state --versioning-configuration Status=Enabled")

	if _, err := s3client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("acme-state"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	ready := mustRun(t, p, "doctor", "--stage", "dev")
	assertContains(t, "state", doctorLine(t, ready.stdout, "state"), "ok state s3://acme-state/persona/dev/terraform.tfstate (eu-west-1): versioned; lock table acme-locks")
}

func TestDoctorNeedsCredentials(t *testing.T) {
	p := newAWSProject(t)
	noAWSCredentials(t)
	r := mustFail(t, p, "", "doctor", "--stage", "dev")
	assertContains(t, "error", r.stderr, "no AWS credentials found")
	if _, err := os.Stat(filepath.Join(p.root, "cdktf.out")); err == nil {
		t.Error("doctor synthesized the stage before finding it has no credentials")
	}
}

func TestDoctorHoldsAProtectedStageToRemoteStateAndItsOwnSecrets(t *testing.T) {
	p := newAWSProject(t, "MyApiKey")
	a := useDoctorAWS(t, 1000)
	a.setParameter(t, "/persona/_fallback/MyApiKey")

	r := mustFail(t, p, "", "doctor", "--stage", "prod")
	assertContains(t, "state", doctorLine(t, r.stdout, "state"), "FAIL state local file .state/persona-prod.tfstate", "stage prod is protected, and deploy refuses a state kept in a local file")
	assertContains(t, "fix", r.stdout, "keep the state in S3: set STATE_BUCKET and STATE_LOCK_TABLE (no bucket yet? go run . bootstrap-state --region eu-west-1)")
	assertContains(t, "secrets", doctorLine(t, r.stdout, "secrets"), "FAIL secrets MyApiKey: missing")
	assertContains(t, "fix", r.stdout, "Stage prod is protected: it reads its own values only, so a fallback value does not count.")
}
