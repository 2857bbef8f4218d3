package constructs

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// synthStateBackend synthesizes a stack holding only a StateBackend and returns its
// resources by type, each type's blocks by name.
func synthStateBackend(t *testing.T, props StateBackendProps) (map[string]map[string]map[string]any, *StateBackend) {
	t.Helper()
	app, err := NewApp(context.Background(), AppProps{Name: "shop", Outdir: t.TempDir(), Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	stack, err := app.NewStack(Stage{Name: "state", Protected: true})
	if err != nil {
		t.Fatal(err)
	}
	var backend *StateBackend
	if err := app.Declare(func() error {
		backend, err = NewStateBackend(stack, "StateBackend", props)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	stack.Output("STATE_BUCKET", backend.Bucket(), "the state bucket")
	result, err := app.Synth()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(result.Stacks[0].Dir, "cdk.tf.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resource map[string]map[string]map[string]any `json:"resource"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Resource, backend
}

// only returns the one block of type typ.
func only(t *testing.T, resources map[string]map[string]map[string]any, typ string) map[string]any {
	t.Helper()
	if len(resources[typ]) != 1 {
		t.Fatalf("%d %s, want one", len(resources[typ]), typ)
	}
	for _, block := range resources[typ] {
		return block
	}
	return nil
}

func TestTheStateBucketIsVersionedEncryptedPrivateAndTLSOnly(t *testing.T) {
	resources, _ := synthStateBackend(t, StateBackendProps{})
	bucket := only(t, resources, "aws_s3_bucket")
	name, _ := bucket["bucket"].(string)
	if !strings.HasPrefix(name, "shop-tfstate-${data.aws_caller_identity.") || !strings.HasSuffix(name, ".account_id}-eu-west-1") {
		t.Errorf("default bucket name %q, want shop-tfstate-<account id>-eu-west-1", name)
	}
	if bucket["force_destroy"] == true || bucket["lifecycle"].(map[string]any)["prevent_destroy"] != true {
		t.Errorf("the bucket can be destroyed: %v", bucket)
	}
	versioning := only(t, resources, "aws_s3_bucket_versioning")
	if status := versioning["versioning_configuration"].(map[string]any)["status"]; status != "Enabled" {
		t.Errorf("versioning status %v, want Enabled", status)
	}
	sse := only(t, resources, "aws_s3_bucket_server_side_encryption_configuration")
	rule := sse["rule"].([]any)[0].(map[string]any)["apply_server_side_encryption_by_default"].(map[string]any)
	if rule["sse_algorithm"] != "AES256" {
		t.Errorf("encryption %v, want AES256", rule)
	}
	block := only(t, resources, "aws_s3_bucket_public_access_block")
	for _, setting := range []string{"block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"} {
		if block[setting] != true {
			t.Errorf("public access block %s = %v, want true", setting, block[setting])
		}
	}
	ownership := only(t, resources, "aws_s3_bucket_ownership_controls")
	if got := ownership["rule"].(map[string]any)["object_ownership"]; got != "BucketOwnerEnforced" {
		t.Errorf("object ownership %v, want BucketOwnerEnforced (ACLs off)", got)
	}

	var policy struct {
		Statement []struct {
			Effect    string
			Principal any
			Action    any
			Resource  []string
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(only(t, resources, "aws_s3_bucket_policy")["policy"].(string)), &policy); err != nil {
		t.Fatal(err)
	}
	if len(policy.Statement) != 1 {
		t.Fatalf("policy statements %+v, want the TLS-only deny alone", policy.Statement)
	}
	deny := policy.Statement[0]
	if deny.Effect != "Deny" || deny.Principal != "*" || deny.Action != "s3:*" || deny.Condition["Bool"]["aws:SecureTransport"] != "false" ||
		len(deny.Resource) != 2 || !strings.HasSuffix(deny.Resource[1], "/*") {
		t.Errorf("policy statement %+v, want every request without TLS denied on the bucket and its objects", deny)
	}
}

func TestTheLockTableIsWhatTerraformsS3BackendLocksWith(t *testing.T) {
	resources, _ := synthStateBackend(t, StateBackendProps{})
	table := only(t, resources, "aws_dynamodb_table")
	want := map[string]any{"name": "shop-tfstate-lock", "hash_key": "LockID", "billing_mode": "PAY_PER_REQUEST", "deletion_protection_enabled": true}
	for k, v := range want {
		if table[k] != v {
			t.Errorf("lock table %s = %v, want %v", k, table[k], v)
		}
	}
	attributes := table["attribute"].([]any)
	if len(attributes) != 1 || attributes[0].(map[string]any)["name"] != "LockID" || attributes[0].(map[string]any)["type"] != "S" {
		t.Errorf("attributes %v, want LockID as a string", attributes)
	}
	if pitr := table["point_in_time_recovery"].(map[string]any); pitr["enabled"] != true {
		t.Errorf("point-in-time recovery %v, want on", pitr)
	}
	if table["lifecycle"].(map[string]any)["prevent_destroy"] != true {
		t.Error("the lock table can be destroyed by terraform")
	}
}

func TestStateBackendNames(t *testing.T) {
	resources, backend := synthStateBackend(t, StateBackendProps{Bucket: "acme-tfstate", LockTable: "acme-tflock"})
	if got := only(t, resources, "aws_s3_bucket")["bucket"]; got != "acme-tfstate" {
		t.Errorf("bucket %v, want acme-tfstate", got)
	}
	if got := only(t, resources, "aws_dynamodb_table")["name"]; got != "acme-tflock" {
		t.Errorf("lock table %v, want acme-tflock", got)
	}
	if backend.Region() != "eu-west-1" {
		t.Errorf("Region = %s", backend.Region())
	}

	stack := scratchStack(t)
	for _, tt := range []struct {
		props StateBackendProps
		want  string
	}{
		{StateBackendProps{Bucket: "Acme_State"}, `state bucket name "Acme_State"`},
		{StateBackendProps{Bucket: "acme.state"}, "lowercase letters, digits and hyphens"},
		{StateBackendProps{Bucket: "ab"}, "3-63"},
		{StateBackendProps{LockTable: "a b"}, `lock table name "a b"`},
	} {
		if _, err := NewStateBackend(stack, "S"+tt.props.Bucket, tt.props); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewStateBackend(%+v) = %v, want an error saying %q", tt.props, err, tt.want)
		}
	}
}
