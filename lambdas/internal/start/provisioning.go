package start

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/personabackend/app/persona"
	"github.com/personabackend/app/resource"
)

// Provisioning is what a function that queues provisioning tasks works with (request,
// and the sweep, which queues them again): the store of its linked table, a publisher
// to its linked topic, and the stage's settings.
type Provisioning struct {
	Store    *persona.Store
	Tasks    *persona.TaskPublisher
	Settings persona.Settings
}

// LinkedProvisioning builds Provisioning from the function's links (persona.TableLink,
// persona.TopicLink) and its settings (persona.SettingsEnv); a missing or unusable one
// is an error naming it.
func LinkedProvisioning(cfg aws.Config) (Provisioning, error) {
	table, err := resource.GetTable(persona.TableLink)
	if err != nil {
		return Provisioning{}, err
	}
	topic, err := resource.GetTopic(persona.TopicLink)
	if err != nil {
		return Provisioning{}, err
	}
	settings, err := persona.SettingsFromEnv()
	if err != nil {
		return Provisioning{}, err
	}
	return Provisioning{
		Store:    persona.NewStore(dynamodb.NewFromConfig(cfg), table.Name),
		Tasks:    persona.NewTaskPublisher(sns.NewFromConfig(cfg), topic.Arn, topic.FIFO),
		Settings: settings,
	}, nil
}
