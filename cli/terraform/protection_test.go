package terraform_test

import (
	"testing"

	"github.com/personabackend/app/cli/terraform"
)

func TestProtectionOf(t *testing.T) {
	preventDestroy := map[string]any{"prevent_destroy": true}
	tests := []struct {
		name          string
		block, values map[string]any
		want          terraform.Protection
	}{
		{
			name:  "a block with lifecycle.prevent_destroy is kept by terraform",
			block: map[string]any{"name": "q", "lifecycle": preventDestroy},
			want:  terraform.Protection{PreventDestroy: true},
		},
		{
			name:  "a DynamoDB table with deletion_protection_enabled is kept by AWS",
			block: map[string]any{"deletion_protection_enabled": true, "lifecycle": preventDestroy},
			want:  terraform.Protection{PreventDestroy: true, DeletionProtection: true},
		},
		{
			name:  "a Cognito user pool with deletion_protection ACTIVE is kept by AWS",
			block: map[string]any{"deletion_protection": "ACTIVE"},
			want:  terraform.Protection{DeletionProtection: true},
		},
		{
			name:  "a Cognito user pool with deletion_protection INACTIVE is not",
			block: map[string]any{"deletion_protection": "INACTIVE"},
		},
		{
			name:   "an RDS instance's boolean deletion_protection counts too",
			values: map[string]any{"deletion_protection": true},
			want:   terraform.Protection{DeletionProtection: true},
		},
		{
			name:  "a load balancer's enable_deletion_protection counts",
			block: map[string]any{"enable_deletion_protection": true},
			want:  terraform.Protection{DeletionProtection: true},
		},
		{
			name:  "a log group with skip_destroy is left in AWS",
			block: map[string]any{"skip_destroy": true, "retention_in_days": 365},
			want:  terraform.Protection{SkipDestroy: true},
		},
		{
			name:   "a resource gone from the configuration still shows AWS's protection in its values",
			values: map[string]any{"deletion_protection_enabled": true, "name": "t"},
			want:   terraform.Protection{DeletionProtection: true},
		},
		{
			name:   "protection turned off is none",
			block:  map[string]any{"deletion_protection_enabled": false, "skip_destroy": false, "lifecycle": map[string]any{"prevent_destroy": false}},
			values: map[string]any{"deletion_protection_enabled": false},
		},
		{
			name:  "a value Terraform resolves later is not taken for protection",
			block: map[string]any{"deletion_protection_enabled": "${var.protect}"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := terraform.ProtectionOf(tt.block, tt.values)
			if got != tt.want {
				t.Errorf("ProtectionOf = %+v, want %+v", got, tt.want)
			}
			if got.Protected() != (tt.want != terraform.Protection{}) {
				t.Errorf("Protected() = %v for %+v", got.Protected(), got)
			}
		})
	}
}

func TestProtectionNamesEachProtection(t *testing.T) {
	p := terraform.Protection{PreventDestroy: true, DeletionProtection: true, SkipDestroy: true}
	if got := p.String(); got != "prevent_destroy, deletion protection in AWS, skip_destroy" {
		t.Errorf("String() = %q", got)
	}
}
