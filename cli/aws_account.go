package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// identity is who the AWS credentials are: their account and the caller's ARN.
type identity struct {
	Account string
	ARN     string
}

// callerIdentity asks STS who the credentials of cfg belong to; every identity may ask.
func callerIdentity(ctx context.Context, cfg aws.Config) (identity, error) {
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return identity{}, fmt.Errorf("asking AWS STS whose credentials these are: %w", err)
	}
	return identity{Account: aws.ToString(out.Account), ARN: aws.ToString(out.Arn)}, nil
}

// partitionOf returns the AWS partition a region belongs to, as ARNs name it.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// dnsSuffix is the domain of a partition's service endpoints.
func dnsSuffix(partition string) string {
	if partition == "aws-cn" {
		return "amazonaws.com.cn"
	}
	return "amazonaws.com"
}
