// Command get serves GET /personas/{personaId}: one of the caller's own personas.
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/personabackend/app/lambdas/internal/start"
	"github.com/personabackend/app/persona"
	"github.com/personabackend/app/resource"
)

func main() {
	start.Run(func(_ context.Context, cfg aws.Config, log *slog.Logger) (any, error) {
		table, err := resource.GetTable(persona.TableLink)
		if err != nil {
			return nil, err
		}
		store := persona.NewStore(dynamodb.NewFromConfig(cfg), table.Name)
		return persona.NewReader(store, log).Get, nil
	})
}
