// Command sweep moves on the personas stuck in flight: it queues again the task of one
// that never reached the topic, and fails one the queue gave up on. EventBridge
// Scheduler runs it every few minutes.
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/personabackend/app/lambdas/internal/start"
	"github.com/personabackend/app/persona"
)

func main() {
	start.Run(func(_ context.Context, cfg aws.Config, log *slog.Logger) (any, error) {
		p, err := start.LinkedProvisioning(cfg)
		if err != nil {
			return nil, err
		}
		sweeper, err := persona.NewSweeper(p.Store, p.Tasks, log, p.Settings)
		if err != nil {
			return nil, err
		}
		return sweeper.Handle, nil
	})
}
