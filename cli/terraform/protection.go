package terraform

import (
	"strings"
)

// Protection is what keeps a resource from being destroyed: by Terraform, by AWS, or by
// neither (a destroy that only forgets it).
type Protection struct {
	// PreventDestroy is lifecycle.prevent_destroy: Terraform refuses any plan that destroys
	// the resource while its block says so.
	PreventDestroy bool
	// DeletionProtection is AWS refusing the delete: DynamoDB's deletion_protection_enabled,
	// Cognito's deletion_protection = "ACTIVE", RDS's deletion_protection, a load
	// balancer's enable_deletion_protection.
	DeletionProtection bool
	// SkipDestroy is skip_destroy (log groups): a destroy takes the resource out of the
	// state and leaves it, with its data, in AWS.
	SkipDestroy bool
}

// Protected reports whether anything keeps the resource from being destroyed.
func (p Protection) Protected() bool {
	return p.PreventDestroy || p.DeletionProtection || p.SkipDestroy
}

// Union is what either p or other protects against.
func (p Protection) Union(other Protection) Protection {
	return Protection{
		PreventDestroy:     p.PreventDestroy || other.PreventDestroy,
		DeletionProtection: p.DeletionProtection || other.DeletionProtection,
		SkipDestroy:        p.SkipDestroy || other.SkipDestroy,
	}
}

// String names the protections, e.g. "prevent_destroy, deletion protection in AWS".
func (p Protection) String() string {
	var names []string
	if p.PreventDestroy {
		names = append(names, "prevent_destroy")
	}
	if p.DeletionProtection {
		names = append(names, "deletion protection in AWS")
	}
	if p.SkipDestroy {
		names = append(names, "skip_destroy")
	}
	return strings.Join(names, ", ")
}

// deletionProtectionArguments are the arguments by which AWS resources refuse deletion,
// with the value that turns it on.
var deletionProtectionArguments = map[string]any{
	"deletion_protection_enabled": true,     // aws_dynamodb_table
	"deletion_protection":         "ACTIVE", // aws_cognito_user_pool
	"enable_deletion_protection":  true,     // aws_lb, aws_networkfirewall_firewall
}

// ProtectionOf returns how a resource is protected, from its block in the stack's
// configuration (its arguments and lifecycle) and from its recorded values (in the state,
// or before a planned change). Either may be nil: a resource gone from the configuration
// still shows AWS's protections in its values, but its prevent_destroy went with its block.
func ProtectionOf(block, values map[string]any) Protection {
	var p Protection
	if lifecycle, ok := block["lifecycle"].(map[string]any); ok && lifecycle["prevent_destroy"] == true {
		p.PreventDestroy = true
	}
	for _, attrs := range []map[string]any{block, values} {
		for name, on := range deletionProtectionArguments {
			// RDS's deletion_protection is a bool, Cognito's a string.
			if v := attrs[name]; v == on || v == true {
				p.DeletionProtection = true
			}
		}
		if attrs["skip_destroy"] == true {
			p.SkipDestroy = true
		}
	}
	return p
}
