// Command echo is a Lambda handler for the pool's tests: it answers with its process ID
// and an environment variable, and can sleep, fail or print on request.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type request struct {
	SleepMS int    `json:"sleepMs"`
	Fail    string `json:"fail"`
	Print   string `json:"print"`
	Env     string `json:"env"`
}

type response struct {
	PID int    `json:"pid"`
	Env string `json:"env"`
}

func main() {
	lambda.Start(func(ctx context.Context, r request) (response, error) {
		if r.Print != "" {
			fmt.Println(r.Print)
		}
		time.Sleep(time.Duration(r.SleepMS) * time.Millisecond)
		if r.Fail != "" {
			return response{}, errors.New(r.Fail)
		}
		return response{PID: os.Getpid(), Env: os.Getenv(r.Env)}, nil
	})
}
