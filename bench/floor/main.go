// Command floor synthesizes the smallest CDKTF app with the AWS provider: one
// provider, one resource. Its run time is what any synth costs before our own work.
package main

import (
	"fmt"
	"os"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/snstopic"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: floor OUTDIR")
		os.Exit(2)
	}
	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: jsii.String(os.Args[1]), StackTraces: jsii.Bool(false)})
	stack := cdktf.NewTerraformStack(app, jsii.String("floor"))
	provider.NewAwsProvider(stack, jsii.String("aws"), &provider.AwsProviderConfig{Region: jsii.String("us-east-1")})
	snstopic.NewSnsTopic(stack, jsii.String("topic"), &snstopic.SnsTopicConfig{Name: jsii.String("floor")})
	app.Synth()
	// As the persona command does: end Node and remove the runtime's temporary folder.
	jsii.Close()
}
