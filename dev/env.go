package dev

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/personabackend/app/dev/iam"
	"github.com/personabackend/app/dev/queues"
	"github.com/personabackend/app/resource"
	"github.com/personabackend/app/topology"
)

// functionEnv is the whole environment a function runs with locally: its plain
// variables, its links with local ARNs and URLs, its own credentials, and what points
// the AWS SDK at the local server (endpoint, which serves DynamoDB, SNS, SQS and SSM).
// Nothing comes from the developer's own environment, so a local AWS profile cannot
// send a handler to a real account.
func functionEnv(s *topology.Stack, fn topology.Function, endpoint string, b *queues.Broker, creds functionCredentials) ([]string, error) {
	vars := map[string]string{}
	for k, v := range fn.Environment {
		vars[k] = v
	}
	for _, l := range fn.Links {
		v, err := linkValue(s, l.Name, b)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", fn.Name, err)
		}
		vars[resource.EnvName(l.Name)] = v
	}
	for k, v := range map[string]string{
		resource.EnvApp:                   s.App,
		resource.EnvStage:                 s.Stage,
		"AWS_REGION":                      s.Region,
		"AWS_DEFAULT_REGION":              s.Region,
		"AWS_ACCESS_KEY_ID":               creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":           creds.SecretAccessKey,
		"AWS_SESSION_TOKEN":               creds.SessionToken,
		"AWS_EC2_METADATA_DISABLED":       "true",
		"AWS_CONFIG_FILE":                 "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE":     "/dev/null",
		"AWS_ENDPOINT_URL_DYNAMODB":       endpoint,
		"AWS_ENDPOINT_URL_SNS":            endpoint,
		"AWS_ENDPOINT_URL_SQS":            endpoint,
		"AWS_ENDPOINT_URL_SSM":            endpoint,
		"AWS_LAMBDA_FUNCTION_NAME":        fn.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(fn.MemoryMB),
		"TZ":                              "UTC",
	} {
		vars[k] = v
	}
	env := make([]string, 0, len(vars))
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		env = append(env, k+"="+vars[k])
	}
	return env, nil
}

// linkValue is the JSON a function finds in RESOURCE_<name>, with local values.
func linkValue(s *topology.Stack, name string, b *queues.Broker) (string, error) {
	var v any
	for _, t := range s.Tables {
		if t.LinkName == name {
			v = t.LinkProperties(fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", s.Region, iam.LocalAccount, t.Name))
		}
	}
	for _, t := range s.Topics {
		if t.LinkName == name {
			v = t.LinkProperties(b.TopicARN(t.Name))
		}
	}
	for _, q := range s.Queues {
		if q.LinkName == name {
			v = q.LinkProperties(b.QueueARN(q.Name), b.QueueURL(q.Name))
		}
	}
	for _, sec := range s.Secrets {
		if sec.Name == name {
			v = sec.LinkProperties()
		}
	}
	if v == nil {
		return "", fmt.Errorf("link %q names nothing the stack declares", name)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encoding link %q: %w", name, err)
	}
	return string(data), nil
}
