// Package awsconfig loads the AWS configuration the way every command of this project
// does: the SDK's usual chain (environment, profile, SSO), one region rule, and no
// probing of EC2 instance metadata unless asked.
package awsconfig

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// DefaultRegion is the region when neither AWS_REGION nor the AWS profile names one.
const DefaultRegion = "us-east-1"

// metadataEnv is the SDK's own switch for instance metadata; "false" asks for it.
const metadataEnv = "AWS_EC2_METADATA_DISABLED"

// Load returns the AWS configuration with its region resolved: AWS_REGION, else the
// AWS profile's region, else DefaultRegion. Credentials are resolved lazily, by the
// first call that needs them.
//
// Instance metadata (the EC2 instance role, IMDS) is off: on a developer's machine a
// probe of it only waits and then warns ("falling back to IMDSv1") before our own
// error. On an EC2 machine whose instance role should be used, such as a CI runner,
// set AWS_EC2_METADATA_DISABLED=false.
func Load(ctx context.Context) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if os.Getenv(metadataEnv) != "false" {
		opts = append(opts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("reading the AWS configuration (check AWS_PROFILE and ~/.aws/config): %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	return cfg, nil
}
