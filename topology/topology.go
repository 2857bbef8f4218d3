// Package topology describes what a synthesized stack contains in plain Go values:
// the tables, topics, queues, functions, routes and links that the constructs declared.
//
// The constructs fill it in while they declare Terraform resources, so tools that need
// the shape of a stage without Terraform (the local dev mode, the secrets commands)
// read the same source of truth. Synth writes it beside each stack as topology.json.
package topology

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/personabackend/app/build"
	"github.com/personabackend/app/dynamo"
)

// FileName is the name of the topology file written beside each stack's cdk.tf.json.
const FileName = "topology.json"

// Stack is everything one stage's stack declares.
type Stack struct {
	App           string         `json:"app"`
	Stage         string         `json:"stage"`
	Region        string         `json:"region"`
	Tables        []Table        `json:"tables,omitempty"`
	Topics        []Topic        `json:"topics,omitempty"`
	Queues        []Queue        `json:"queues,omitempty"`
	Subscriptions []Subscription `json:"subscriptions,omitempty"`
	Functions     []Function     `json:"functions,omitempty"`
	Routes        []Route        `json:"routes,omitempty"`
	EventSources  []EventSource  `json:"eventSources,omitempty"`
	Schedules     []Schedule     `json:"schedules,omitempty"`
	Secrets       []Secret       `json:"secrets,omitempty"`
	UserPools     []UserPool     `json:"userPools,omitempty"`
	// Grants are the access levels each linked resource offers, and what they grant.
	Grants []Grant `json:"grants,omitempty"`
	// CORS is what the API answers browsers on other origins; nil when it has no API.
	CORS  *CORS  `json:"cors,omitempty"`
	Sites []Site `json:"sites,omitempty"`
}

// Table is a DynamoDB table: its name and the schema it was declared with.
type Table struct {
	LinkName string       `json:"linkName"`
	Name     string       `json:"name"`
	Schema   dynamo.Table `json:"schema"`
}

// Topic is an SNS topic. A FIFO topic with ContentBasedDeduplication takes a hash
// of the message body as its deduplication id when the publisher gives none.
type Topic struct {
	LinkName                  string `json:"linkName"`
	Name                      string `json:"name"`
	FIFO                      bool   `json:"fifo"`
	ContentBasedDeduplication bool   `json:"contentBasedDeduplication,omitempty"`
}

// Queue is an SQS queue. A queue with a dead-letter queue moves a message there
// once it has been received MaxReceiveCount times without being deleted.
type Queue struct {
	LinkName                  string `json:"linkName"`
	Name                      string `json:"name"`
	FIFO                      bool   `json:"fifo"`
	ContentBasedDeduplication bool   `json:"contentBasedDeduplication,omitempty"`
	VisibilityTimeoutSeconds  int    `json:"visibilityTimeoutSeconds"`
	RetentionSeconds          int    `json:"retentionSeconds"`
	DeadLetterQueue           string `json:"deadLetterQueue,omitempty"` // the dead-letter queue's Name
	MaxReceiveCount           int    `json:"maxReceiveCount,omitempty"`
	// MaximumMessageSize is the most bytes a message may hold, body and attributes
	// together; 0 means SQS's default for a queue that sets none, 1 MiB.
	MaximumMessageSize int `json:"maximumMessageSize,omitempty"`
}

// Subscription delivers a topic's messages that match FilterPolicy to a queue.
type Subscription struct {
	Topic        string `json:"topic"` // Topic.Name
	Queue        string `json:"queue"` // Queue.Name
	FilterPolicy string `json:"filterPolicy,omitempty"`
	// FilterPolicyScope says what FilterPolicy looks at: "MessageAttributes" (also
	// when empty) or "MessageBody", the keys of a JSON body.
	FilterPolicyScope  string `json:"filterPolicyScope,omitempty"`
	RawMessageDelivery bool   `json:"rawMessageDelivery"`
}

// Function is a Go Lambda function built from a main package.
type Function struct {
	Name           string            `json:"name"`    // the deployed function name
	Role           string            `json:"role"`    // its execution role's name
	Package        string            `json:"package"` // Go package path relative to the module root, e.g. "./lambdas/list"
	MemoryMB       int               `json:"memoryMB"`
	TimeoutSeconds int               `json:"timeoutSeconds"`
	Environment    map[string]string `json:"environment,omitempty"` // plain variables, links excluded
	Links          []Link            `json:"links,omitempty"`
	// Policy is the function's IAM policy: the statements of its role's policy in
	// Terraform, the same ones.
	Policy []Statement `json:"policy,omitempty"`
}

// Link gives a function access to a linked resource.
type Link struct {
	Name   string `json:"name"`   // the resource's LinkName
	Access string `json:"access"` // e.g. "read", "write", "read-write", "publish", "consume"
}

// Route sends HTTP requests matching RouteKey ("GET /personas") to a function.
type Route struct {
	RouteKey   string `json:"routeKey"`
	Function   string `json:"function"` // Function.Name
	Authorized bool   `json:"authorized"`
	// Issuer and Audience are what the route's JWT authorizer trusts, when the stack
	// names them before deploying (not a user pool it creates).
	Issuer   string   `json:"issuer,omitempty"`
	Audience []string `json:"audience,omitempty"`
}

// EventSource feeds a queue's messages to a function in batches.
type EventSource struct {
	Queue                    string `json:"queue"`    // Queue.Name
	Function                 string `json:"function"` // Function.Name
	BatchSize                int    `json:"batchSize"`
	MaxBatchingWindowSeconds int    `json:"maxBatchingWindowSeconds,omitempty"`
	ReportBatchItemFailures  bool   `json:"reportBatchItemFailures"`
}

// Schedule invokes a function at a fixed rate, with the event {}.
type Schedule struct {
	Function     string `json:"function"` // Function.Name
	EverySeconds int    `json:"everySeconds"`
}

// Secret is a declared secret and where each stage keeps its value.
type Secret struct {
	Name      string `json:"name"`
	Parameter string `json:"parameter"`
	// FallbackParameter holds the value used when the stage has none of its own; it is
	// empty on a protected stage, which runs on its own values only.
	FallbackParameter string `json:"fallbackParameter"`
}

// UserPool is a Cognito user pool with its app client, as the stack declares them.
type UserPool struct {
	Name string `json:"name"`
	// UsernameAttributes are what people sign in with instead of a user name ("email").
	UsernameAttributes []string `json:"usernameAttributes,omitempty"`
	// AutoVerifiedAttributes are verified by a code Cognito sends ("email").
	AutoVerifiedAttributes []string `json:"autoVerifiedAttributes,omitempty"`
	// AdminCreateUserOnly: nobody signs up; an administrator creates each user.
	AdminCreateUserOnly bool `json:"adminCreateUserOnly"`
	// UsernamesCaseSensitive: Ada@Example.com and ada@example.com are two users;
	// false, one.
	UsernamesCaseSensitive bool `json:"usernamesCaseSensitive"`
	// MFA is the pool's second sign-in factor, time-based one-time passwords from an
	// authenticator app: OFF, OPTIONAL (for users who set up an app) or ON (everyone).
	MFA            string         `json:"mfa"`
	PasswordPolicy PasswordPolicy `json:"passwordPolicy"`
	Client         UserPoolClient `json:"client"`
}

// PasswordPolicy is what a user pool requires of a password.
type PasswordPolicy struct {
	MinimumLength    int  `json:"minimumLength"`
	RequireLowercase bool `json:"requireLowercase"`
	RequireUppercase bool `json:"requireUppercase"`
	RequireNumbers   bool `json:"requireNumbers"`
	RequireSymbols   bool `json:"requireSymbols"`
}

// UserPoolClient is a user pool's app client.
type UserPoolClient struct {
	Name string `json:"name"`
	// ExplicitAuthFlows are the sign-in flows the client allows, e.g. ALLOW_USER_SRP_AUTH.
	ExplicitAuthFlows          []string `json:"explicitAuthFlows"`
	GenerateSecret             bool     `json:"generateSecret"`
	PreventUserExistenceErrors bool     `json:"preventUserExistenceErrors"`
	EnableTokenRevocation      bool     `json:"enableTokenRevocation"`
}

// CORS is an HTTP API's cross-origin configuration.
type CORS struct {
	// AllowOrigins are the origins allowed besides the stack's own sites, or "*".
	AllowOrigins []string `json:"allowOrigins,omitempty"`
	// AllowSites are the IDs of the stack's sites whose origin is allowed: known once
	// deployed, and wherever the dev mode serves them locally.
	AllowSites    []string `json:"allowSites,omitempty"`
	AllowMethods  []string `json:"allowMethods"`
	AllowHeaders  []string `json:"allowHeaders"`
	ExposeHeaders []string `json:"exposeHeaders,omitempty"`
	MaxAgeSeconds int      `json:"maxAgeSeconds"`
}

// Site is a static site the stack serves.
type Site struct {
	ID   string `json:"id"`   // the construct id, e.g. MyWeb
	Name string `json:"name"` // the resources' name
	// Build is how synth builds the site from its sources; Path, instead, is a built
	// folder (absolute, or relative to the module root).
	Build          *build.Site `json:"build,omitempty"`
	Path           string      `json:"path,omitempty"`
	ImmutablePaths []string    `json:"immutablePaths"`
}

// Read loads a topology file written by synth.
func Read(path string) (*Stack, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading stack topology (run synth first): %w", err)
	}
	var s Stack
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("decoding stack topology %s: %w", path, err)
	}
	return &s, nil
}

// Function returns the function named name.
func (s *Stack) Function(name string) (Function, bool) {
	for _, f := range s.Functions {
		if f.Name == name {
			return f, true
		}
	}
	return Function{}, false
}

// Queue returns the queue named name.
func (s *Stack) Queue(name string) (Queue, bool) {
	for _, q := range s.Queues {
		if q.Name == name {
			return q, true
		}
	}
	return Queue{}, false
}
