package constructs

import (
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dynamodbtable"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucket"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketpolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketversioning"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// StateBackendProps names the bucket and lock table of a StateBackend.
type StateBackendProps struct {
	// Bucket is the S3 bucket's name. Bucket names are global, so the default names the
	// account and region: "<app>-tfstate-<account id>-<region>".
	Bucket string
	// LockTable is the DynamoDB lock table's name; default "<app>-tfstate-lock".
	LockTable string
}

// StateBackend is where stages keep their Terraform state (StateProps.Bucket and
// LockTable): an S3 bucket, versioned so that every earlier state can be restored,
// and a DynamoDB table that locks a stage's state while a run changes it.
//
// Both are kept from destruction (prevent_destroy, and the table's deletion
// protection): they hold every stage's record of what it owns.
type StateBackend struct {
	stack     *Stack
	bucket    *privateBucket
	lockTable dynamodbtable.DynamodbTable
}

var (
	// S3's rules for a bucket name, without dots (which break TLS to virtual-hosted buckets).
	stateBucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	lockTablePattern   = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)
)

// NewStateBackend declares the state bucket and lock table in stack.
func NewStateBackend(stack *Stack, id string, props StateBackendProps) (*StateBackend, error) {
	if props.Bucket != "" && !stateBucketPattern.MatchString(props.Bucket) {
		return nil, fmt.Errorf("state bucket name %q: use 3-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit", props.Bucket)
	}
	if props.LockTable != "" && !lockTablePattern.MatchString(props.LockTable) {
		return nil, fmt.Errorf("lock table name %q: use 3-255 letters, digits, underscores, hyphens and dots", props.LockTable)
	}
	app := stack.app
	bucketName := firstNonEmpty(props.Bucket, fmt.Sprintf("%s-tfstate-%s-%s", app.name, stack.accountID(), app.region))
	keep := &cdktf.TerraformResourceLifecycle{PreventDestroy: jsii.Bool(true)}
	scope := stack.scope(id)

	// SSE-S3, as the S3 backend's encrypt setting asks for: a KMS key would add a key
	// policy every deployer needs, for files that hold no secret values here.
	bucket := newPrivateBucket(scope, "bucket", &s3bucket.S3BucketConfig{
		Bucket:    jsii.String(bucketName),
		Lifecycle: keep,
	})
	s3bucketversioning.NewS3BucketVersioningA(scope, jsii.String("versioning"), &s3bucketversioning.S3BucketVersioningAConfig{
		Bucket:                  bucket.bucket.Id(),
		VersioningConfiguration: &s3bucketversioning.S3BucketVersioningVersioningConfiguration{Status: jsii.String("Enabled")},
	})
	policy, err := json.Marshal(map[string]any{
		"Version":   "2012-10-17",
		"Statement": []map[string]any{bucket.tlsOnly()},
	})
	if err != nil {
		return nil, err
	}
	s3bucketpolicy.NewS3BucketPolicy(scope, jsii.String("bucket-policy"), &s3bucketpolicy.S3BucketPolicyConfig{
		Bucket: bucket.bucket.Id(),
		Policy: jsii.String(string(policy)),
		// S3 refuses concurrent changes to one bucket's configuration.
		DependsOn: &[]cdktf.ITerraformDependable{bucket.publicAccess},
	})

	lockTable := dynamodbtable.NewDynamodbTable(scope, jsii.String("lock-table"), &dynamodbtable.DynamodbTableConfig{
		Name:        jsii.String(firstNonEmpty(props.LockTable, app.name+"-tfstate-lock")),
		BillingMode: jsii.String("PAY_PER_REQUEST"),
		// The key Terraform's S3 backend writes its locks under.
		HashKey:                   jsii.String("LockID"),
		Attribute:                 []*dynamodbtable.DynamodbTableAttribute{{Name: jsii.String("LockID"), Type: jsii.String("S")}},
		PointInTimeRecovery:       &dynamodbtable.DynamodbTablePointInTimeRecovery{Enabled: jsii.Bool(true)},
		DeletionProtectionEnabled: jsii.Bool(true),
		Lifecycle:                 keep,
	})
	return &StateBackend{stack: stack, bucket: bucket, lockTable: lockTable}, nil
}

// Bucket is the state bucket's name.
func (b *StateBackend) Bucket() string { return *b.bucket.bucket.Bucket() }

// LockTable is the lock table's name.
func (b *StateBackend) LockTable() string { return *b.lockTable.Name() }

// Region is the region of the bucket and the table.
func (b *StateBackend) Region() string { return b.stack.app.region }
