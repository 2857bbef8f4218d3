// Command get serves GET /personas/{personaId}: one of the caller's personas.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/personabackend/app/persona"
	"github.com/personabackend/app/resource"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("loading AWS configuration", "error", err.Error())
		os.Exit(1)
	}
	table, err := resource.GetTable(persona.TableLink)
	if err != nil {
		log.Error("reading links", "error", err.Error())
		os.Exit(1)
	}
	store := persona.NewStore(dynamodb.NewFromConfig(cfg), table.Name)
	lambda.Start(persona.NewAPI(store, nil, log).Get)
}
