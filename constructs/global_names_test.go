package constructs

import (
	"context"
	"strings"
	"testing"
	"time"
)

// globalNames are the resource types whose names AWS keeps unique across all the
// regions of an account, and the argument holding the name.
var globalNames = map[string]string{
	"aws_iam_role":                           "name",
	"aws_cloudfront_function":                "name",
	"aws_cloudfront_key_value_store":         "name",
	"aws_cloudfront_origin_access_control":   "name",
	"aws_cloudfront_response_headers_policy": "name",
}

func TestNamesUniqueAcrossRegionsCarryTheRegion(t *testing.T) {
	for _, stage := range []string{"dev", "prod"} {
		s := stackFor(t, stage)
		for typ, arg := range globalNames {
			resources := s.resources(typ)
			if len(resources) == 0 {
				t.Errorf("%s declares no %s", stage, typ)
			}
			for id, r := range resources {
				if name, _ := r[arg].(string); !strings.HasPrefix(name, "shop-"+stage+"-eu-west-1-") {
					t.Errorf("%s %s.%s: %s %q does not start with app, stage and region", stage, typ, id, arg, name)
				}
			}
		}
	}
	app, err := NewApp(context.Background(), AppProps{Name: "persona", Outdir: t.TempDir(), Region: "ap-southeast-4", DeclareOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	stage, _ := LookupStage("a-twenty-char-stage0")
	stack, err := app.NewStack(stage)
	if err != nil {
		t.Fatal(err)
	}
	if got := stack.GlobalName("web-rewrite"); got != "persona-a-twenty-char-stage0-ap-southeast-4-web-rewrite" || len(got) > 64 {
		t.Errorf("GlobalName = %q (%d characters)", got, len(got))
	}
	// 44 characters of app, stage and region leave a function 20 for its role.
	if _, err := NewGoFunction(stack, "Fits", FunctionProps{Package: "./constructs/testdata/echo", Name: strings.Repeat("f", 20)}); err != nil {
		t.Errorf("a function whose role name is 64 characters: %v", err)
	}
	if _, err := NewGoFunction(stack, "Long", FunctionProps{Package: "./constructs/testdata/echo", Name: strings.Repeat("l", 21)}); err == nil || !strings.Contains(err.Error(), "longer than IAM's 64 characters") {
		t.Errorf("a function whose role name is 65 characters: %v", err)
	}
	// A schedule's role adds "-scheduler" to its function's name, which leaves 10.
	every := time.Hour
	if _, err := NewScheduledFunction(stack, "FitsSchedule", ScheduleProps{Every: every, Function: FunctionProps{Package: "./constructs/testdata/echo", Name: strings.Repeat("s", 10)}}); err != nil {
		t.Errorf("a schedule whose role name is 64 characters: %v", err)
	}
	long := strings.Repeat("m", 11)
	if _, err := NewScheduledFunction(stack, "LongSchedule", ScheduleProps{Every: every, Function: FunctionProps{Package: "./constructs/testdata/echo", Name: long}}); err == nil || !strings.Contains(err.Error(), "longer than IAM's 64 characters") {
		t.Errorf("a schedule whose role name is 65 characters: %v", err)
	}
	for _, fn := range stack.Topology().Functions {
		if fn.Name == stack.ResourceName(long) {
			t.Errorf("the refused schedule left its function %s declared", fn.Name)
		}
	}
}

func TestWhatOthersUseIsCreatedAnewBeforeTheOldOneGoes(t *testing.T) {
	s := stackFor(t, "dev")
	// CloudFront refuses to delete a function or store in use; a function whose role
	// or policy went first would run without its permissions.
	for _, typ := range []string{"aws_cloudfront_function", "aws_cloudfront_key_value_store", "aws_iam_role", "aws_iam_role_policy"} {
		resources := s.resources(typ)
		if len(resources) == 0 {
			t.Errorf("no %s", typ)
		}
		for id, r := range resources {
			if lifecycle, _ := r["lifecycle"].(map[string]any); lifecycle["create_before_destroy"] != true {
				t.Errorf("%s.%s: lifecycle %v, want create_before_destroy", typ, id, r["lifecycle"])
			}
		}
	}
}
