package constructs

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatchloggroup"
)

// newLogGroup declares a log group kept for the stage's log retention. A protected
// stage's log groups outlive the stack (skip_destroy): removing the stage leaves its
// logs to expire with their retention rather than deleting them with it.
func (s *Stack) newLogGroup(scope constructs.Construct, id, name string) cloudwatchloggroup.CloudwatchLogGroup {
	config := &cloudwatchloggroup.CloudwatchLogGroupConfig{
		Name:            jsii.String(name),
		RetentionInDays: jsii.Number(float64(s.stage.LogRetentionDays)),
	}
	if s.stage.Protected {
		config.SkipDestroy = jsii.Bool(true)
	}
	return cloudwatchloggroup.NewCloudwatchLogGroup(scope, jsii.String(id), config)
}
