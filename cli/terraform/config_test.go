package terraform_test

import (
	"path/filepath"
	"testing"
)

func TestBackend(t *testing.T) {
	tests := []struct {
		name       string
		stack      string
		wantType   string
		wantLocked bool
		wantFile   string // relative to the stack's folder
	}{
		{
			name:     "a stack without a backend keeps terraform.tfstate in its folder",
			stack:    `{"resource": {}}`,
			wantType: "local", wantLocked: true, wantFile: "terraform.tfstate",
		},
		{
			name:     "a local backend's relative path starts at the stack's folder",
			stack:    `{"terraform": {"backend": {"local": {"path": "../../.state/persona-dev.tfstate"}}}}`,
			wantType: "local", wantLocked: true, wantFile: "../../.state/persona-dev.tfstate",
		},
		{
			name:     "S3 with a DynamoDB lock table is locked",
			stack:    `{"terraform": {"backend": {"s3": {"bucket": "b", "key": "k", "dynamodb_table": "locks"}}}}`,
			wantType: "s3", wantLocked: true,
		},
		{
			name:     "S3 with a lock file is locked",
			stack:    `{"terraform": {"backend": {"s3": {"bucket": "b", "key": "k", "use_lockfile": true}}}}`,
			wantType: "s3", wantLocked: true,
		},
		{
			name:     "S3 without either is not",
			stack:    `{"terraform": {"backend": {"s3": {"bucket": "b", "key": "k"}}}}`,
			wantType: "s3",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config := writeConfig(t, tt.stack)
			backend, err := config.Backend()
			if err != nil {
				t.Fatal(err)
			}
			if backend.Type != tt.wantType || backend.Locked != tt.wantLocked || backend.Local() != (tt.wantType == "local") {
				t.Errorf("Backend = %+v, want type %s, locked %v", backend, tt.wantType, tt.wantLocked)
			}
			if tt.wantFile == "" {
				if backend.StateFile != "" {
					t.Errorf("a remote backend has a state file %q", backend.StateFile)
				}
				return
			}
			if !filepath.IsAbs(backend.StateFile) || filepath.Base(backend.StateFile) != filepath.Base(tt.wantFile) {
				t.Errorf("StateFile = %q, want the absolute path of %s", backend.StateFile, tt.wantFile)
			}
		})
	}
}

func TestBlockOfAnInstanceIsItsResource(t *testing.T) {
	config := writeConfig(t, `{"resource": {"aws_sqs_queue": {"q": {"name": "n"}}}}`)
	for _, address := range []string{"aws_sqs_queue.q", "aws_sqs_queue.q[0]", `aws_sqs_queue.q["a"]`} {
		if block, ok := config.Block(address); !ok || block["name"] != "n" {
			t.Errorf("Block(%s) = %v, %v", address, block, ok)
		}
	}
	if _, ok := config.Block("aws_sqs_queue.gone"); ok {
		t.Error("Block found a resource the configuration does not have")
	}
}
