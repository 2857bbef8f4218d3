// Command hello answers GET /hello with a fixed greeting; the dev tests edit the
// greeting to see a change picked up without a restart.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

const greeting = "hello v1"

func main() {
	lambda.Start(func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"content-type": "text/plain"}, Body: greeting}, nil
	})
}
