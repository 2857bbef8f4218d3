// Package start runs a persona Lambda function: it sets up JSON logging and the AWS
// configuration, lets the function read its links, then serves events.
package start

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Handler builds a function's handler from the AWS configuration; an error (a
// missing link, say) stops the function at init, where Lambda reports it.
type Handler func(ctx context.Context, cfg aws.Config, log *slog.Logger) (any, error)

// Run builds the handler and serves events with it. It does not return.
func Run(build Handler) {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Error("loading AWS configuration", "error", err.Error())
		os.Exit(1)
	}
	handler, err := build(ctx, cfg, log)
	if err != nil {
		log.Error("starting the function", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(handler)
}
