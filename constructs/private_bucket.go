package constructs

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucket"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketownershipcontrols"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketpublicaccessblock"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketserversideencryptionconfiguration"
)

// privateBucket is an S3 bucket that only its account's policies open: public access
// blocked, ACLs off (only the bucket policy grants access), encrypted at rest.
type privateBucket struct {
	bucket       s3bucket.S3Bucket
	publicAccess s3bucketpublicaccessblock.S3BucketPublicAccessBlock
	encryption   s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationA
}

// newPrivateBucket declares the bucket config describes, under scope, with its public
// access block ("public-access"), ownership controls ("ownership") and SSE-S3
// encryption ("encryption").
func newPrivateBucket(scope constructs.Construct, id string, config *s3bucket.S3BucketConfig) *privateBucket {
	b := &privateBucket{bucket: s3bucket.NewS3Bucket(scope, jsii.String(id), config)}
	b.publicAccess = s3bucketpublicaccessblock.NewS3BucketPublicAccessBlock(scope, jsii.String("public-access"), &s3bucketpublicaccessblock.S3BucketPublicAccessBlockConfig{
		Bucket:                b.bucket.Id(),
		BlockPublicAcls:       jsii.Bool(true),
		BlockPublicPolicy:     jsii.Bool(true),
		IgnorePublicAcls:      jsii.Bool(true),
		RestrictPublicBuckets: jsii.Bool(true),
	})
	s3bucketownershipcontrols.NewS3BucketOwnershipControls(scope, jsii.String("ownership"), &s3bucketownershipcontrols.S3BucketOwnershipControlsConfig{
		Bucket: b.bucket.Id(),
		Rule:   &s3bucketownershipcontrols.S3BucketOwnershipControlsRule{ObjectOwnership: jsii.String("BucketOwnerEnforced")},
	})
	b.encryption = s3bucketserversideencryptionconfiguration.NewS3BucketServerSideEncryptionConfigurationA(scope, jsii.String("encryption"), &s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationAConfig{
		Bucket: b.bucket.Id(),
		Rule: []*s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationRuleA{{
			ApplyServerSideEncryptionByDefault: &s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA{
				SseAlgorithm: jsii.String("AES256"),
			},
		}},
	})
	return b
}

// tlsOnly is the bucket policy statement that refuses every request not made over TLS.
func (b *privateBucket) tlsOnly() map[string]any {
	return map[string]any{
		"Sid":       "TLSOnly",
		"Effect":    "Deny",
		"Principal": "*",
		"Action":    "s3:*",
		"Resource":  []string{*b.bucket.Arn(), *b.bucket.Arn() + "/*"},
		"Condition": map[string]any{"Bool": map[string]string{"aws:SecureTransport": "false"}},
	}
}
