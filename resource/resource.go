// Package resource gives Lambda handlers typed access to the resources linked to them.
//
// Linking a resource to a function (see package constructs) puts one environment
// variable on the function, RESOURCE_<LinkName>, holding a JSON object with the
// resource's kind and its run-time properties. Handlers read those properties here
// instead of spelling environment variable names by hand.
package resource

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// EnvPrefix starts the name of every environment variable that carries a link.
const EnvPrefix = "RESOURCE_"

// Kinds of linkable resources, as written in the "kind" field of a link.
const (
	KindTable  = "table"
	KindTopic  = "topic"
	KindQueue  = "queue"
	KindSecret = "secret"
)

// Environment variables every function gets, naming its app and stage.
const (
	EnvApp   = "APP_NAME"
	EnvStage = "APP_STAGE"
)

// EnvName is the environment variable that carries the link named linkName.
func EnvName(linkName string) string { return EnvPrefix + linkName }

// Table is a linked DynamoDB table.
type Table struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	Arn  string `json:"arn"`
}

// Topic is a linked SNS topic.
type Topic struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	Arn  string `json:"arn"`
	FIFO bool   `json:"fifo"`
}

// Queue is a linked SQS queue. MaxReceiveCount, when not zero, is how many times
// a message is received before it moves to the dead-letter queue, so a consumer
// can tell a message's last attempt.
type Queue struct {
	Kind            string `json:"kind"`
	Name            string `json:"name"`
	Arn             string `json:"arn"`
	URL             string `json:"url"`
	FIFO            bool   `json:"fifo"`
	MaxReceiveCount int    `json:"maxReceiveCount,omitempty"`
}

// Secret is a linked secret: where its value lives, never the value itself.
// FallbackParameter holds the value shared by stages that have none of their own; it
// is empty on a protected stage, whose functions may read their stage's value only.
type Secret struct {
	Kind              string `json:"kind"`
	Parameter         string `json:"parameter"`
	FallbackParameter string `json:"fallbackParameter"`
}

// NotLinkedError says that a handler asked for a resource its function is not linked to.
type NotLinkedError struct {
	Name   string
	Linked []string
}

func (e *NotLinkedError) Error() string {
	linked := "none"
	if len(e.Linked) > 0 {
		linked = strings.Join(e.Linked, ", ")
	}
	return fmt.Sprintf("resource %q is not linked to this function (no %s in its environment; linked: %s): link it to the function in the stack definition",
		e.Name, EnvName(e.Name), linked)
}

// GetTable returns the linked table named name.
func GetTable(name string) (Table, error) {
	var t Table
	return t, get(name, KindTable, &t)
}

// GetTopic returns the linked topic named name.
func GetTopic(name string) (Topic, error) {
	var t Topic
	return t, get(name, KindTopic, &t)
}

// GetQueue returns the linked queue named name.
func GetQueue(name string) (Queue, error) {
	var q Queue
	return q, get(name, KindQueue, &q)
}

// GetSecret returns where the linked secret named name is stored.
// Package resource/secrets fetches its value.
func GetSecret(name string) (Secret, error) {
	var s Secret
	return s, get(name, KindSecret, &s)
}

// App returns the app and stage the function was deployed with.
func App() (app, stage string) {
	return os.Getenv(EnvApp), os.Getenv(EnvStage)
}

// Linked lists the names of all resources linked to this function, sorted.
func Linked() []string {
	var names []string
	for _, kv := range os.Environ() {
		if key, _, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(key, EnvPrefix) {
			names = append(names, strings.TrimPrefix(key, EnvPrefix))
		}
	}
	sort.Strings(names)
	return names
}

func get(name, kind string, into any) error {
	raw, ok := os.LookupEnv(EnvName(name))
	if !ok {
		return &NotLinkedError{Name: name, Linked: Linked()}
	}
	var header struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal([]byte(raw), &header); err != nil {
		return fmt.Errorf("resource %q: %s is not a link (invalid JSON): %w", name, EnvName(name), err)
	}
	if header.Kind != kind {
		return fmt.Errorf("resource %q is a %s, not a %s", name, header.Kind, kind)
	}
	if err := json.Unmarshal([]byte(raw), into); err != nil {
		return fmt.Errorf("resource %q: decoding %s: %w", name, EnvName(name), err)
	}
	return nil
}
