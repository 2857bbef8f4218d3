// Command worker provisions personas from the persona queue.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/personabackend/app/persona"
	"github.com/personabackend/app/resource"
	"github.com/personabackend/app/resource/secrets"
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
	// The key's value is read on first use and kept for the life of the process;
	// checking the link now makes a missing link an init error, not a failed batch.
	if _, err := resource.GetSecret(persona.APIKeySecret); err != nil {
		log.Error("reading links", "error", err.Error())
		os.Exit(1)
	}
	queue, err := resource.GetQueue(persona.QueueLink)
	if err != nil {
		log.Error("reading links", "error", err.Error())
		os.Exit(1)
	}
	prov := &persona.Provisioner{Secrets: secrets.NewLoader(ssm.NewFromConfig(cfg)), Now: time.Now}
	store := persona.NewStore(dynamodb.NewFromConfig(cfg), table.Name)
	worker, err := persona.NewWorker(store, prov, log, queue.MaxReceiveCount)
	if err != nil {
		log.Error("reading links", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(worker.Handle)
}
