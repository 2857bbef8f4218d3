package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"regexp"

	"github.com/personabackend/app/cli/deployerpolicy"
	"github.com/personabackend/app/topology"
)

var deployerPolicyCommand = command{
	name:    "deployer-policy",
	args:    "--stage STAGE [--account ID]",
	summary: "Print the least-privilege IAM policy that deploys and removes a stage",
	details: `Prints the IAM policy (JSON) that an identity such as a CI role needs to deploy and
remove the stage, derived from the stage's synthesized stack: the actions its resource
types need to be created, read, updated, tagged and deleted, on the stage's resources
(names starting with <app>-<stage>-) wherever AWS allows a resource to be named;
iam:PassRole on the functions' roles, for Lambda only; the Terraform state (the state
object, its folder of the bucket, the stage's rows of the lock table) when it is in S3;
and ssm:GetParameters on the stage's secrets (a protected stage's own alone), for
deploy's check, which decrypts no value.
No action is a wildcard, and Resource "*" stands only where AWS offers no resource-level
permission (listed on standard error, with the reason).

ARNs name the account of your AWS credentials, or the one given with --account; with
neither, they hold * for the account (said on standard error).

Examples:
  PROGRAM deployer-policy --stage prod > deployer-prod.json
  aws iam put-role-policy --role-name persona-deployer --policy-name persona-prod \
      --policy-document file://deployer-prod.json`,
	run: func(ctx context.Context, t *tool, args []string) error { return t.deployerPolicy(ctx, args) },
}

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

func (t *tool) deployerPolicy(ctx context.Context, args []string) error {
	var account string
	info, _, err := t.stageArgs("deployer-policy", args, noArgs, func(fs *flag.FlagSet) {
		fs.StringVar(&account, "account", "", "the AWS account's 12-digit ID (default: your AWS credentials' account)")
	})
	if err != nil {
		return err
	}
	if account != "" && !accountID.MatchString(account) {
		return usagef("--account %q is not an AWS account ID: give its 12 digits", account)
	}
	source := "given with --account"
	if account == "" {
		account, source = t.credentialsAccount(ctx)
	}
	policy, err := t.stagePolicy(ctx, info, account)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(t.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(policy); err != nil {
		return err
	}
	t.policyNotes(info, policy, account, source)
	return nil
}

// stagePolicy synthesizes the stage and derives its deployer's policy.
func (t *tool) stagePolicy(ctx context.Context, info StageInfo, account string) (*deployerpolicy.Policy, error) {
	declared, err := t.stageSecrets(info)
	if err != nil {
		return nil, err
	}
	dir, err := t.project.Synth(ctx, info.Name)
	if err != nil {
		return nil, fmt.Errorf("synthesizing stage %s: %w", info.Name, err)
	}
	policy, err := deployerpolicy.Build(deployerpolicy.Stack{
		Dir: dir, App: t.project.App(), Stage: info.Name, Account: account,
		SecretParameters: secretParameters(declared),
	})
	if err != nil {
		return nil, fmt.Errorf("deriving the deployer policy of stage %s: %w", info.Name, err)
	}
	return policy, nil
}

// secretParameters are the parameters deploy's secrets check reads: each secret's own
// and, except on a protected stage, its fallback.
func secretParameters(declared []topology.Secret) []string {
	var params []string
	for _, s := range declared {
		params = append(params, s.Parameter)
		if s.FallbackParameter != "" {
			params = append(params, s.FallbackParameter)
		}
	}
	return params
}

// credentialsAccount returns the account of the AWS credentials, if any, and where the
// account came from or why none is known.
func (t *tool) credentialsAccount(ctx context.Context) (account, source string) {
	cfg, err := awsConfig(ctx)
	if err != nil {
		return "", "no AWS credentials were found"
	}
	id, err := callerIdentity(ctx, cfg)
	if err != nil {
		return "", fmt.Sprintf("the credentials' account could not be read (%v)", err)
	}
	return id.Account, "your AWS credentials' account"
}

// policyNotes says on standard error what the policy covers and how to attach it.
func (t *tool) policyNotes(info StageInfo, policy *deployerpolicy.Policy, account, source string) {
	w := t.stderr
	fmt.Fprintf(w, "Deployer policy of stage %s (stack %s-%s): %d actions in %d statements.\n",
		info.Name, t.project.App(), info.Name, len(policy.Actions()), len(policy.Statement))
	if account == "" {
		fmt.Fprintf(w, "The account is not known (%s): its ARNs hold * for the account. Give --account ID to name it.\n", source)
	} else {
		fmt.Fprintf(w, "Account %s (%s).\n", account, source)
	}
	size := policy.Size()
	fit := fmt.Sprintf("it fits a managed policy (up to %d) or an inline role policy (up to %d)", deployerpolicy.ManagedPolicyQuota, deployerpolicy.InlineRolePolicyQuota)
	switch {
	case size > deployerpolicy.InlineRolePolicyQuota:
		fit = fmt.Sprintf("over the %d of a role's inline policies: split it between two managed policies", deployerpolicy.InlineRolePolicyQuota)
	case size > deployerpolicy.ManagedPolicyQuota:
		fit = fmt.Sprintf("attach it as an inline role policy (aws iam put-role-policy, up to %d); it is over the %d of a managed policy", deployerpolicy.InlineRolePolicyQuota, deployerpolicy.ManagedPolicyQuota)
	}
	fmt.Fprintf(w, "Size: %d characters without whitespace: %s.\n", size, fit)
	if !hasStatement(policy, "StateObject") {
		fmt.Fprintf(w, "Its state is a local file, which a CI runner loses with its workspace: set STATE_BUCKET and STATE_LOCK_TABLE, then print the policy again to include the state's permissions.\n")
	}
	fmt.Fprintf(w, "Resource \"*\" stands only where AWS offers no resource-level permission:\n")
	for _, s := range policy.Statement {
		if s.Unscoped != "" {
			fmt.Fprintf(w, "    %s: %s\n", s.Sid, s.Unscoped)
		}
	}
}

func hasStatement(policy *deployerpolicy.Policy, sid string) bool {
	for _, s := range policy.Statement {
		if s.Sid == sid {
			return true
		}
	}
	return false
}
