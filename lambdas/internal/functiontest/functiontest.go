// Package functiontest gives the tests of the persona functions the environment a
// deployed function gets, pointed at local servers: its links as the stack writes them
// (topology's LinkProperties, under resource.EnvName), its settings, and AWS's.
// Only tests import it.
package functiontest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/personabackend/app/internal/localaws/localawstest"
	"github.com/personabackend/app/persona"
	"github.com/personabackend/app/resource"
	"github.com/personabackend/app/topology"
)

// The resources the tests create on the local servers and link to the functions.
const (
	TableName = "personas"
	TopicName = "tasks.fifo"
	QueueName = "persona.fifo"
	// account is the AWS account in the ARNs of resources whose ARN no local server gives.
	account = "000000000000"
)

// Env is what a deployed persona function gets, pointed at local servers: the region
// and credentials of localawstest, an endpoint per service (endpoints maps a service's
// name in AWS_ENDPOINT_URL_<SERVICE>, e.g. "DYNAMODB", to its URL), the app and
// stage, and vars (made by the functions below).
func Env(endpoints map[string]string, vars ...string) []string {
	env := []string{
		"AWS_REGION=" + localawstest.Region, "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
		"AWS_EC2_METADATA_DISABLED=true", resource.EnvApp + "=persona-app", resource.EnvStage + "=test",
	}
	for service, url := range endpoints {
		env = append(env, "AWS_ENDPOINT_URL_"+service+"="+url)
	}
	return append(env, vars...)
}

// Link is the variable a function linked to the resource named linkName finds:
// RESOURCE_<linkName> holding the resource's link properties as JSON.
func Link(linkName string, properties any) string {
	data, err := json.Marshal(properties)
	if err != nil {
		panic(fmt.Sprintf("encoding link properties of strings, numbers and booleans cannot fail: %v", err))
	}
	return resource.EnvName(linkName) + "=" + string(data)
}

// TableLink links the persona table, TableName.
func TableLink() string {
	arn := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", localawstest.Region, account, TableName)
	return Link(persona.TableLink, topology.Table{Name: TableName}.LinkProperties(arn))
}

// TopicLink links the task topic, TopicName, FIFO as the stack declares it, at arn.
func TopicLink(arn string) string {
	return Link(persona.TopicLink, topology.Topic{Name: TopicName, FIFO: true}.LinkProperties(arn))
}

// QueueLink links the persona queue, QueueName, whose messages go to the dead-letter
// queue after maxReceives receives (0: a link without the limit).
func QueueLink(maxReceives int) string {
	arn := fmt.Sprintf("arn:aws:sqs:%s:%s:%s", localawstest.Region, account, QueueName)
	q := topology.Queue{Name: QueueName, FIFO: true, MaxReceiveCount: maxReceives}
	return Link(persona.QueueLink, q.LinkProperties(arn, "http://127.0.0.1:1/"+account+"/"+QueueName))
}

// SecretLink links the API key's secret, stored in the SSM parameter named parameter.
func SecretLink(parameter string) string {
	return Link(persona.APIKeySecret, topology.Secret{Name: persona.APIKeySecret, Parameter: parameter}.LinkProperties())
}

// Settings gives the function the stage's settings s.
func Settings(s persona.Settings) string {
	return persona.SettingsEnv + "=" + s.Environment()[persona.SettingsEnv]
}

// With returns env with each of vars (NAME=value) in place of any variable of its name.
func With(env []string, vars ...string) []string {
	for _, v := range vars {
		name, _, _ := strings.Cut(v, "=")
		env = append(Without(env, name), v)
	}
	return env
}

// Without returns env without the variables named names.
func Without(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(names, name) {
			out = append(out, kv)
		}
	}
	return out
}

// Unlinked returns env without any link.
func Unlinked(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, resource.EnvPrefix) {
			out = append(out, kv)
		}
	}
	return out
}
