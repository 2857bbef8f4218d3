// Command worker provisions personas from the persona queue.
package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/personabackend/app/lambdas/internal/start"
	"github.com/personabackend/app/persona"
	"github.com/personabackend/app/resource"
	"github.com/personabackend/app/resource/secrets"
)

func main() {
	start.Run(func(_ context.Context, cfg aws.Config, log *slog.Logger) (any, error) {
		table, err := resource.GetTable(persona.TableLink)
		if err != nil {
			return nil, err
		}
		// The key's value is read on first use and kept for the life of the process;
		// checking the link now makes a missing link an init error, not a failed batch.
		if _, err := resource.GetSecret(persona.APIKeySecret); err != nil {
			return nil, err
		}
		queue, err := resource.GetQueue(persona.QueueLink)
		if err != nil {
			return nil, err
		}
		settings, err := persona.SettingsFromEnv()
		if err != nil {
			return nil, err
		}
		prov := &persona.Provisioner{Secrets: secrets.NewLoader(ssm.NewFromConfig(cfg)), Now: time.Now, Settings: settings}
		store := persona.NewStore(dynamodb.NewFromConfig(cfg), table.Name)
		worker, err := persona.NewWorker(store, prov, log, queue.MaxReceiveCount)
		if err != nil {
			return nil, err
		}
		return worker.Handle, nil
	})
}
