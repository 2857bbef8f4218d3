package backend

import (
	"fmt"
	"time"

	"github.com/personabackend/app/constructs"
	"github.com/personabackend/app/persona"
	"github.com/personabackend/app/topology"
)

// offers are the models and tools personas may name on a stage.
type offers struct {
	models, tools []string
}

// stageOffers are what each built-in stage offers personas; a personal stage offers
// what dev does. Change them here: a deploy carries them to the functions, where the
// request handler refuses a persona naming anything else (400) and the worker checks
// again before it signs a profile. Try a model or tool on dev before prod offers it.
var stageOffers = map[string]offers{
	"dev":     {models: houseModels, tools: houseTools},
	"staging": {models: houseModels, tools: houseTools},
	"prod":    {models: houseModels, tools: houseTools},
}

var (
	houseModels = []string{"anthropic/claude-sonnet-4-5", "anthropic/claude-haiku-4-5", "openai/gpt-5", "openai/gpt-5-mini"}
	houseTools  = []string{"search", "calendar", "web_fetch", "calculator", "code_interpreter"}
)

// maxInFlight is how many personas one user may have requested or provisioning at
// once: a person waits seconds for each, so more at once is a script.
const maxInFlight = 10

// sweepEvery is how often the sweep looks for personas stuck in flight.
const sweepEvery = 5 * time.Minute

// personaSettings are what the stage offers personas and how many a user may have
// in flight.
func personaSettings(stage constructs.Stage) (persona.Settings, error) {
	offered, ok := stageOffers[stage.Name]
	if !ok {
		offered = stageOffers["dev"]
	}
	s := persona.Settings{Models: offered.models, Tools: offered.tools, MaxInFlight: maxInFlight}
	if err := s.Validate(); err != nil {
		return persona.Settings{}, fmt.Errorf("stage %s's persona settings: %w", stage.Name, err)
	}
	return s, nil
}

// withStuckAfter gives the sweep its threshold: a persona counts as stuck once it has
// been in flight for the queue's whole retry window (each receive waiting out the
// visibility timeout) plus ten minutes, so the sweep never fails a persona whose task
// the queue may still deliver.
func withStuckAfter(s persona.Settings, queue topology.Queue) (persona.Settings, error) {
	if queue.MaxReceiveCount < 1 || queue.VisibilityTimeoutSeconds < 1 {
		return persona.Settings{}, fmt.Errorf("queue %q has no receive limit or visibility timeout, from which the sweep's threshold follows", queue.Name)
	}
	retries := time.Duration(queue.MaxReceiveCount*queue.VisibilityTimeoutSeconds) * time.Second
	s.StuckAfterSeconds = int((retries + 10*time.Minute).Seconds())
	return s, s.Validate()
}

// requestThrottle is POST /personas' throttle: a tenth of the stage's rate and burst.
// A request stores a persona and starts a worker; reading is cheap.
func requestThrottle(stage constructs.Stage) constructs.Throttle {
	return constructs.Throttle{Rate: stage.ThrottleRate / 10, Burst: max(1, stage.ThrottleBurst/10)}
}
