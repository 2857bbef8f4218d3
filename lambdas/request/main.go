// Command request serves POST /personas: it stores a requested persona and queues its provisioning.
package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

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
		topic, err := resource.GetTopic(persona.TopicLink)
		if err != nil {
			return nil, err
		}
		settings, err := persona.SettingsFromEnv()
		if err != nil {
			return nil, err
		}
		store := persona.NewStore(dynamodb.NewFromConfig(cfg), table.Name)
		tasks := persona.NewTaskPublisher(sns.NewFromConfig(cfg), topic.Arn, topic.FIFO)
		api, err := persona.NewAPI(store, tasks, log, settings)
		if err != nil {
			return nil, err
		}
		return api.Request, nil
	})
}
