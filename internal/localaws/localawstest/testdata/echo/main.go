// Command echo is a Lambda handler for testing the runtime API: it answers with its
// event, and fails when the event is the JSON string "fail".
package main

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(_ context.Context, event json.RawMessage) (json.RawMessage, error) {
		if string(event) == `"fail"` {
			return nil, errors.New("asked to fail")
		}
		return event, nil
	})
}
