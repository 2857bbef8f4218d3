// Command request serves POST /personas: it stores a requested persona and queues its provisioning.
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
		api, err := persona.NewAPI(p.Store, p.Tasks, log, p.Settings)
		if err != nil {
			return nil, err
		}
		return api.Request, nil
	})
}
