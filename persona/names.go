package persona

// Link names: what the stack calls the resources the handlers are linked to, and
// what the handlers read them by (package resource).
const (
	TableLink = "PersonaTable"
	TopicLink = "TaskTopic"
	QueueLink = "PersonaQueue"
	// APIKeySecret is the linked secret the worker signs agent profiles with.
	APIKeySecret = "MyApiKey"
)

// Secrets are the secrets every stage declares; set their values with
// `go run . secrets set NAME --stage STAGE`.
var Secrets = []string{APIKeySecret}

// Routes of the API, each served by its own handler (Reader.List, Reader.Get, API.Request).
const (
	RouteList    = "GET /personas"
	RouteRequest = "POST /personas"
	RouteGet     = "GET /personas/{personaId}"
)

// Headers of the contract beyond Authorization and Content-Type: what a caller sends
// and reads, which the API's CORS configuration lets a browser's script do.
const (
	HeaderIdempotencyKey     = "Idempotency-Key"     // request: makes POST /personas safe to retry
	HeaderLocation           = "Location"            // response: the requested persona's URL
	HeaderIdempotentReplayed = "Idempotent-Replayed" // response: "true" when a retry returned the stored persona
)

// QueueAttribute and QueueName route a task: the persona queue's subscription
// accepts only messages whose attribute "queue" is "persona".
const (
	QueueAttribute = "queue"
	QueueName      = "persona"
)

// QueueFilter is the persona queue's subscription filter policy on the task topic:
// {"queue": ["persona"]}.
func QueueFilter() map[string]any {
	return map[string]any{QueueAttribute: []string{QueueName}}
}
