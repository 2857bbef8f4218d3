package constructs

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var iamAction = regexp.MustCompile(`^[a-z0-9-]+:[A-Za-z0-9]+\*?$`)

func TestEveryTypeAStackDeclaresHasItsDeployPermissions(t *testing.T) {
	types := map[string]bool{}
	for _, stage := range []string{"dev", "prod"} {
		doc := stackFor(t, stage).doc
		for typ := range doc["resource"].(map[string]any) {
			types[typ] = true
		}
		data, _ := doc["data"].(map[string]any)
		for typ := range data {
			types["data."+typ] = true
		}
	}
	declared := slices.Sorted(maps.Keys(types))
	permissions, err := DeployPermissions(declared...)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range permissions {
		if p.Type != declared[i] {
			t.Errorf("permission %d is for %s, want %s: the order given", i, p.Type, declared[i])
		}
	}
	// Every known type is one the test stacks declare, so none is listed for nothing.
	if known := DeployPermissionTypes(); strings.Join(known, ",") != strings.Join(declared, ",") {
		t.Errorf("known types %v, declared %v", known, declared)
	}
}

func TestDeployPermissionsNameExactActionsAndSayWhyForTheUnusualOnes(t *testing.T) {
	permissions, err := DeployPermissions(DeployPermissionTypes()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range permissions {
		for _, action := range p.Actions {
			// kms:GenerateDataKey* style wildcards are not deploy actions either.
			if !iamAction.MatchString(action) || strings.Contains(action, "*") {
				t.Errorf("%s: %q is not one exact IAM action", p.Type, action)
			}
		}
		if !slices.IsSorted(p.Actions) || len(slices.Compact(slices.Clone(p.Actions))) != len(p.Actions) {
			t.Errorf("%s: actions %v are not sorted and distinct", p.Type, p.Actions)
		}
		for action, why := range p.Why {
			if !slices.Contains(p.Actions, action) || why == "" {
				t.Errorf("%s: a reason for %q, which is not one of its actions", p.Type, action)
			}
		}
		if strings.HasPrefix(p.Type, "aws_") && len(p.Actions) == 0 {
			t.Errorf("%s: a resource needs actions", p.Type)
		}
	}
}

func TestDeployPermissionsOfATypeNoConstructDeclaresAreAnError(t *testing.T) {
	_, err := DeployPermissions("aws_sqs_queue", "aws_route53_record", "aws_instance")
	if err == nil || !strings.Contains(err.Error(), "aws_route53_record, aws_instance") || !strings.Contains(err.Error(), "deploy_actions.go") {
		t.Errorf("error = %v", err)
	}
}

func TestDeployPermissionsAreCopiesTheCallerMayChange(t *testing.T) {
	first, _ := DeployPermissions("aws_apigatewayv2_stage")
	first[0].Actions[0] = "changed:Action"
	first[0].Why["logs:CreateLogDelivery"] = "changed"
	again, _ := DeployPermissions("aws_apigatewayv2_stage")
	if again[0].Actions[0] == "changed:Action" || again[0].Why["logs:CreateLogDelivery"] == "changed" {
		t.Errorf("a caller's change reached the table: %v", again[0])
	}
}
