package conformance

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

const (
	ssmDocs          = "https://docs.aws.amazon.com/systems-manager/latest/"
	getParameterDoc  = ssmDocs + "APIReference/API_GetParameter.html"
	getParametersDoc = ssmDocs + "APIReference/API_GetParameters.html"
	secureStringDoc  = ssmDocs + "userguide/parameter-store-about-examples.html"
)

// withParameter declares p under a name of its own and runs fn with that name.
func withParameter(ctx context.Context, c *target, p parameterDef, fn func(name string) string) string {
	p.name = "/" + c.unique("conf") + p.name
	if err := c.declare.parameter(ctx, p); err != nil {
		return "declaring the parameter: " + failed(err)
	}
	return fn(p.name)
}

// getParameter describes GetParameter's answer: type and value.
func getParameter(ctx context.Context, c *target, name string, decrypt bool) string {
	out, err := c.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: str(name), WithDecryption: aws.Bool(decrypt)})
	if err != nil {
		return failed(err)
	}
	return string(out.Parameter.Type) + " " + aws.ToString(out.Parameter.Value)
}

// accountPattern is the account of an ARN, which differs from one target to another.
var accountPattern = regexp.MustCompile(`:\d{12}:`)

func ssmScenarios() []scenario {
	return []scenario{
		{
			name: "GetParameter answers a String parameter's type and value",
			doc:  getParameterDoc, want: "String blue",
			run: func(ctx context.Context, c *target) string {
				return withParameter(ctx, c, parameterDef{name: "/colour", typ: "String", value: "blue"}, func(name string) string {
					return getParameter(ctx, c, name, false)
				})
			},
		},
		{
			name: "GetParameter answers a StringList parameter as StringList",
			doc:  getParameterDoc, want: "StringList a,b",
			run: func(ctx context.Context, c *target) string {
				return withParameter(ctx, c, parameterDef{name: "/list", typ: "StringList", value: "a,b"}, func(name string) string {
					return getParameter(ctx, c, name, false)
				})
			},
		},
		{
			name: "GetParameter with decryption answers a SecureString's plaintext",
			doc:  getParameterDoc, want: "SecureString s3cret",
			run: func(ctx context.Context, c *target) string {
				return withParameter(ctx, c, parameterDef{name: "/key", typ: "SecureString", value: "s3cret"}, func(name string) string {
					return getParameter(ctx, c, name, true)
				})
			},
		},
		{
			name: "GetParameter without decryption does not answer a SecureString's plaintext",
			doc:  secureStringDoc, want: "SecureString, value withheld",
			run: func(ctx context.Context, c *target) string {
				return withParameter(ctx, c, parameterDef{name: "/key", typ: "SecureString", value: "s3cret"}, func(name string) string {
					out, err := c.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: str(name)})
					if err != nil {
						return failed(err)
					}
					if v := aws.ToString(out.Parameter.Value); strings.Contains(v, "s3cret") {
						return string(out.Parameter.Type) + ", plaintext " + v
					}
					return string(out.Parameter.Type) + ", value withheld"
				})
			},
		},
		{
			name: "GetParameter of an unknown name is ParameterNotFound",
			doc:  getParameterDoc, want: "error ParameterNotFound (ParameterNotFound) 400",
			run: func(ctx context.Context, c *target) string {
				_, err := c.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: str("/" + c.unique("absent"))})
				return failed(err)
			},
		},
		{
			name: "GetParameter answers the parameter's ARN and version",
			doc:  getParameterDoc, want: "arn:aws:ssm:us-east-1:ACCOUNT:parameter/NAME version 1",
			run: func(ctx context.Context, c *target) string {
				return withParameter(ctx, c, parameterDef{name: "/colour", typ: "String", value: "blue"}, func(name string) string {
					out, err := c.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: str(name)})
					if err != nil {
						return failed(err)
					}
					arn := accountPattern.ReplaceAllString(aws.ToString(out.Parameter.ARN), ":ACCOUNT:")
					if want := "arn:aws:ssm:us-east-1:ACCOUNT:parameter" + name; arn == want {
						arn = "arn:aws:ssm:us-east-1:ACCOUNT:parameter/NAME"
					}
					return fmt.Sprintf("%s version %d", arn, out.Parameter.Version)
				})
			},
		},
		{
			name: "GetParameters answers the parameters found and names the others invalid",
			doc:  getParametersDoc, want: "found [String:blue] invalid 1",
			run: func(ctx context.Context, c *target) string {
				return withParameter(ctx, c, parameterDef{name: "/colour", typ: "String", value: "blue"}, func(name string) string {
					out, err := c.ssm.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{name, name + "-absent"}})
					if err != nil {
						return failed(err)
					}
					var found []string
					for _, p := range out.Parameters {
						found = append(found, string(p.Type)+":"+aws.ToString(p.Value))
					}
					sort.Strings(found)
					return fmt.Sprintf("found %v invalid %d", found, len(out.InvalidParameters))
				})
			},
		},
		{
			name: "GetParameters of more than 10 names is ValidationException",
			doc:  getParametersDoc, want: "error ValidationException (ValidationException) 400",
			run: func(ctx context.Context, c *target) string {
				var names []string
				for i := range 11 {
					names = append(names, fmt.Sprintf("/many/%d", i))
				}
				_, err := c.ssm.GetParameters(ctx, &ssm.GetParametersInput{Names: names})
				return failed(err)
			},
		},
	}
}
