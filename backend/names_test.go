package backend

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/personabackend/app/constructs"
)

// The longest names a persona stack can have: a personal stage of the most
// characters a stage name may have, in a region whose name is as long as any
// (ap-southeast-4, like ap-northeast-3 or us-isob-east-1), with every optional
// resource (alarms and their email, an SES sender).
const (
	longestStage  = "longest-stage-name-x" // 20 characters
	longestRegion = "ap-southeast-4"
)

// synthLongest synthesizes the longest-named stack into outdir, for names_test.go.
func synthLongest(outdir string) error {
	on := true
	cfg := Config{
		Outdir: outdir, Region: longestRegion, Stage: longestStage,
		Alarms: &on, AlarmEmail: []string{"oncall@example.com"},
		EmailSender: &constructs.EmailSender{From: "no-reply@example.com", SESIdentityARN: "arn:aws:ses:ap-southeast-4:123456789012:identity/example.com"},
	}
	if len(cfg.Stage) != 20 {
		return fmt.Errorf("the longest stage name %q is not 20 characters", cfg.Stage)
	}
	_, result, err := Synth(context.Background(), cfg)
	if err != nil {
		return fmt.Errorf("synthesizing the longest names: %w", err)
	}
	data, err := os.ReadFile(filepath.Join(result.Stacks[0].Dir, "cdk.tf.json"))
	if err != nil {
		return err
	}
	return json.Unmarshal(data, &longest.doc)
}

// nameLimits are AWS's limits on each kind of name the stacks write: by resource
// type, then by the argument holding the name.
var nameLimits = map[string]map[string]int{
	"aws_iam_role":                           {"name": 64},
	"aws_iam_role_policy":                    {"name": 128},
	"aws_lambda_function":                    {"function_name": 64},
	"aws_cloudwatch_log_group":               {"name": 512},
	"aws_sqs_queue":                          {"name": 80},
	"aws_sns_topic":                          {"name": 256},
	"aws_dynamodb_table":                     {"name": 255},
	"aws_apigatewayv2_api":                   {"name": 128},
	"aws_apigatewayv2_authorizer":            {"name": 128},
	"aws_apigatewayv2_stage":                 {"name": 128},
	"aws_cognito_user_pool":                  {"name": 128},
	"aws_cognito_user_pool_client":           {"name": 128},
	"aws_s3_bucket":                          {"bucket_prefix": 37}, // 63 less the 26 characters Terraform appends
	"aws_cloudfront_origin_access_control":   {"name": 64},
	"aws_cloudfront_response_headers_policy": {"name": 128},
	"aws_cloudfront_function":                {"name": 64},
	"aws_cloudfront_key_value_store":         {"name": 64},
	"aws_cloudwatch_metric_alarm":            {"alarm_name": 255},
	"aws_kms_alias":                          {"name": 256},
	"aws_scheduler_schedule":                 {"name": 64},
	"aws_scheduler_schedule_group":           {"name": 64},
}

// globalKinds are the names AWS keeps unique across the regions of an account.
var globalKinds = map[string]bool{
	"aws_iam_role": true, "aws_cloudfront_origin_access_control": true, "aws_cloudfront_response_headers_policy": true,
	"aws_cloudfront_function": true, "aws_cloudfront_key_value_store": true,
}

var nameArguments = []string{"name", "name_prefix", "function_name", "alarm_name", "bucket", "bucket_prefix"}

func TestEveryNameFitsAWSsLimitWithTheLongestStageAndRegion(t *testing.T) {
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	longestOf := map[string]string{} // "type.argument" to its longest name
	for typ, byName := range longest.doc["resource"].(map[string]any) {
		for id, r := range byName.(map[string]any) {
			for _, arg := range nameArguments {
				name, ok := r.(map[string]any)[arg].(string)
				if !ok || strings.Contains(name, "${") {
					continue // absent, or another resource's attribute
				}
				limit, known := nameLimits[typ][arg]
				if !known {
					t.Errorf("%s.%s names itself with %s %q: add AWS's limit for it to nameLimits", typ, id, arg, name)
					continue
				}
				if len(name) > limit {
					t.Errorf("%s.%s: %s %q is %d characters, over AWS's %d", typ, id, arg, name, len(name), limit)
				}
				if globalKinds[typ] && !strings.Contains(name, "-"+longestRegion+"-") {
					t.Errorf("%s.%s: %s %q is unique across regions, so it must carry the region", typ, id, arg, name)
				}
				if kind := typ + "." + arg; len(name) > len(longestOf[kind]) {
					longestOf[kind] = name
				}
			}
		}
	}
	for _, typ := range slices.Sorted(maps.Keys(nameLimits)) {
		for arg, limit := range nameLimits[typ] {
			name, seen := longestOf[typ+"."+arg]
			if !seen {
				t.Errorf("the longest stack names no %s.%s: drop its limit, or make the stack declare one", typ, arg)
				continue
			}
			t.Logf("%-40s %-13s %3d of %3d  %s", typ, arg, len(name), limit, name)
		}
	}
}
