package cli

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/personabackend/app/cli/terraform"
)

// existingResource is a resource that apply could not create because AWS already holds
// one of its name: the stage's state was lost, or something else made it.
type existingResource struct {
	Address string // the resource's Terraform address
	Kind    string // what the provider calls it, e.g. "IAM Role"
	// Name is the name it tried to create; for an event source mapping, the UUID of
	// the one that exists.
	Name string
}

// alreadyExistsCodes are the AWS error codes that say a create found its name taken.
var alreadyExistsCodes = []string{
	"EntityAlreadyExists",              // IAM roles and policies; CloudFront key value stores
	"ResourceAlreadyExistsException",   // CloudWatch Logs log groups
	"ResourceInUseException",           // DynamoDB tables
	"ResourceConflictException",        // Lambda functions, permissions, event source mappings
	"BucketAlreadyOwnedByYou",          // S3, outside us-east-1
	"BucketAlreadyExists",              // S3: the provider's own check in us-east-1
	"QueueAlreadyExists",               // SQS, a queue of that name with other attributes
	"QueueNameExists",                  // SQS, the same error by its modeled name
	"FunctionAlreadyExists",            // CloudFront Functions
	"OriginAccessControlAlreadyExists", // CloudFront
	"ResponseHeadersPolicyAlreadyExists",
	"CachePolicyAlreadyExists",
	"DistributionAlreadyExists",
	"GroupExistsException",       // Cognito user pool groups
	"DuplicateProviderException", // Cognito identity providers
}

var (
	// The AWS provider names what it was creating first: "creating IAM Role (name): ...",
	// "adding Lambda Permission (function/statement): ...".
	createSummary = regexp.MustCompile(`^(?:creating|adding) ([^(]+?) \(([^)]*)\)`)
	// Lambda's ResourceConflictException for an event source mapping names the existing one.
	mappingUUID = regexp.MustCompile(`existing mapping with UUID ([0-9a-f-]{36})`)
	uuid        = regexp.MustCompile(`^[0-9a-f-]{36}$`)
)

// existingResources returns the resources that a failed apply could not create because
// they already exist, in the order terraform reported them.
func existingResources(diags []terraform.Diagnostic) []existingResource {
	var found []existingResource
	for _, d := range diags {
		m := createSummary.FindStringSubmatch(d.Summary)
		if m == nil || d.Address == "" || !alreadyExists(d.Text()) {
			continue
		}
		r := existingResource{Address: d.Address, Kind: m[1], Name: m[2]}
		if u := mappingUUID.FindStringSubmatch(d.Text()); u != nil {
			r.Name = u[1]
		}
		found = append(found, r)
	}
	return found
}

func alreadyExists(text string) bool {
	for _, code := range alreadyExistsCodes {
		if strings.Contains(text, code) {
			return true
		}
	}
	// SNS answers a topic created again with other attributes or tags with
	// InvalidParameter: "Topic already exists with different ...".
	return strings.Contains(text, "already exists")
}

// importTarget is where the import IDs of resources that need more than their name
// come from: the stage's partition, region and account.
type importTarget struct {
	Partition, Region, Account string
}

// importID returns the ID `terraform import` takes for r (the import formats of the AWS
// provider 5.84's documentation), and whether it is known.
func importID(r existingResource, target importTarget) (string, bool) {
	typ, _, _ := strings.Cut(r.Address, ".")
	switch typ {
	case "aws_iam_role", "aws_iam_policy", "aws_dynamodb_table", "aws_lambda_function",
		"aws_cloudwatch_log_group", "aws_s3_bucket", "aws_cloudfront_function",
		"aws_cloudfront_key_value_store":
		return r.Name, true
	case "aws_lambda_permission":
		return r.Name, true // "function/statement", as the provider names it
	case "aws_lambda_event_source_mapping":
		return r.Name, uuid.MatchString(r.Name)
	case "aws_sqs_queue":
		return fmt.Sprintf("https://sqs.%s.%s/%s/%s", target.Region, dnsSuffix(target.Partition), target.Account, r.Name), true
	case "aws_sns_topic":
		return fmt.Sprintf("arn:%s:sns:%s:%s:%s", target.Partition, target.Region, target.Account, r.Name), true
	case "aws_cloudfront_origin_access_control":
		// Imported by its ID, which AWS chose: the AWS CLI looks it up by name.
		return fmt.Sprintf(`"$(aws cloudfront list-origin-access-controls --query "OriginAccessControlList.Items[?Name=='%s'].Id" --output text)"`, r.Name), true
	case "aws_cloudfront_response_headers_policy":
		return fmt.Sprintf(`"$(aws cloudfront list-response-headers-policies --type custom --query "ResponseHeadersPolicyList.Items[?ResponseHeadersPolicy.ResponseHeadersPolicyConfig.Name=='%s'].ResponseHeadersPolicy.Id" --output text)"`, r.Name), true
	}
	return "", false
}

// needsAccount reports whether the import ID of any of resources holds the account.
func needsAccount(resources []existingResource) bool {
	for _, r := range resources {
		if typ, _, _ := strings.Cut(r.Address, "."); typ == "aws_sqs_queue" || typ == "aws_sns_topic" {
			return true
		}
	}
	return false
}

// unknownAccount stands for the account in an import ID when it could not be read.
const unknownAccount = "ACCOUNT_ID"

// withImportHint adds to a failed apply's error, when resources it had to create already
// exist in AWS, which they are and the terraform import command for each.
func (t *tool) withImportHint(ctx context.Context, run *stageRun, err error) error {
	var exit *terraform.ExitError
	if !errors.As(err, &exit) {
		return err
	}
	existing := existingResources(exit.Errors)
	if len(existing) == 0 {
		return err
	}
	target := importTarget{Account: unknownAccount}
	if cfg, cfgErr := awsConfig(ctx); cfgErr == nil {
		target.Region, target.Partition = cfg.Region, partitionOf(cfg.Region)
		if needsAccount(existing) {
			if id, idErr := callerIdentity(ctx, cfg); idErr == nil {
				target.Account = id.Account
			}
		}
	}
	return fmt.Errorf("%w\n%s", err, importHint(run, existing, target, t.project.App()))
}

// importHint explains resources that exist in AWS but not in the stage's state, and how
// to take them into the state.
func importHint(run *stageRun, existing []existingResource, target importTarget, app string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d resource(s) already exist in AWS but not in the Terraform state of stage %s:", len(existing), run.info.Name)
	for _, r := range existing {
		fmt.Fprintf(&b, "\n    %s (%s %s)", r.Address, r.Kind, r.Name)
	}
	fmt.Fprintf(&b, "\nIf they are this stage's own (a deploy whose state was lost, or another state backend), take them into its state, then deploy again:")
	var unknown []existingResource
	usesAccount := false
	for _, r := range existing {
		id, ok := importID(r, target)
		if !ok {
			unknown = append(unknown, r)
			continue
		}
		usesAccount = usesAccount || strings.Contains(id, unknownAccount)
		fmt.Fprintf(&b, "\n    %s -chdir=%s import %s %s", run.tf.Bin, run.tf.Dir, shellQuote(r.Address), shellQuoteID(id))
	}
	for _, r := range unknown {
		typ, _, _ := strings.Cut(r.Address, ".")
		fmt.Fprintf(&b, "\n    %s -chdir=%s import %s ID    (ID: see Import in the AWS provider's documentation of %s)", run.tf.Bin, run.tf.Dir, shellQuote(r.Address), typ)
	}
	fmt.Fprintf(&b, "\n    %s diff --stage %s      (review what deploy will change on them)", Program, run.info.Name)
	fmt.Fprintf(&b, "\n    %s deploy --stage %s", Program, run.info.Name)
	if usesAccount {
		fmt.Fprintf(&b, "\nReplace %s with the account's ID (aws sts get-caller-identity --query Account --output text): it could not be read.", unknownAccount)
	}
	fmt.Fprintf(&b, "\nIf they belong to something else, such as the same stage of %s deployed from another region or state, do not import them (removing stage %s would then delete them): rename or delete them in AWS instead.",
		app, run.info.Name)
	return b.String()
}

// shellQuote quotes s for a POSIX shell when it holds anything but plain word characters,
// as an address with a for_each key does: aws_s3_object.files["index.html"].
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@%+=,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// shellQuoteID quotes an import ID, except one that is already a quoted command substitution.
func shellQuoteID(id string) string {
	if strings.HasPrefix(id, `"$(`) {
		return id
	}
	return shellQuote(id)
}
