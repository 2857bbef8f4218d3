// Command echo is a minimal Lambda handler the construct tests build and package.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context, event map[string]any) (map[string]any, error) {
		return event, nil
	})
}
