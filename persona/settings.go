package persona

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// SettingsEnv is the environment variable that carries a stage's Settings to its
// functions, as JSON: the stack writes it from the stage's settings (package backend),
// and the request handler, the worker and the sweep read it at init.
const SettingsEnv = "PERSONA_SETTINGS"

// Settings are what a stage allows and how it keeps personas moving.
type Settings struct {
	// Models are the models a persona may name; no model (the runtime's default) is
	// always allowed. A persona naming another one is refused (400) when requested and
	// failed by the worker, which checks again before it signs a profile.
	Models []string `json:"models"`
	// Tools are the tools a persona may name.
	Tools []string `json:"tools"`
	// MaxInFlight is how many personas one user may have requested or provisioning at
	// once; another request is answered 429 until one of them is ready or failed.
	MaxInFlight int `json:"maxInFlight"`
	// StuckAfterSeconds, the sweep's alone, is how long a persona may stay in flight
	// before the sweep queues its task again (when it never reached the topic) or fails
	// it (when the queue had it and gave up). It must outlast the queue's retries.
	StuckAfterSeconds int `json:"stuckAfterSeconds,omitempty"`
}

// StuckAfter is how long a persona may stay in flight before the sweep acts on it.
func (s Settings) StuckAfter() time.Duration { return time.Duration(s.StuckAfterSeconds) * time.Second }

// Validate reports what in s a function cannot work with.
func (s Settings) Validate() error {
	var errs []error
	for i, m := range s.Models {
		if !validModel(m) {
			errs = append(errs, fmt.Errorf("models[%d] %q is not a model name a persona could give", i, m))
		}
	}
	for i, tool := range s.Tools {
		if !toolPattern.MatchString(tool) {
			errs = append(errs, fmt.Errorf("tools[%d] %q is not a tool name a persona could give", i, tool))
		}
	}
	if s.MaxInFlight < 1 {
		errs = append(errs, fmt.Errorf("maxInFlight is %d: allow each user at least 1 persona in flight", s.MaxInFlight))
	}
	if s.StuckAfterSeconds != 0 && s.StuckAfterSeconds < 60 {
		errs = append(errs, fmt.Errorf("stuckAfterSeconds is %d: give the queue at least a minute before the sweep acts", s.StuckAfterSeconds))
	}
	return errors.Join(errs...)
}

// Environment is s as the functions' environment holds it.
func (s Settings) Environment() map[string]string {
	data, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("encoding settings of strings and numbers cannot fail: %v", err))
	}
	return map[string]string{SettingsEnv: string(data)}
}

// SettingsFromEnv reads the Settings the stack gave the function.
func SettingsFromEnv() (Settings, error) {
	raw, ok := os.LookupEnv(SettingsEnv)
	if !ok {
		return Settings{}, fmt.Errorf("%s is not set: the stack gives it to the persona functions (backend.Define); deploy again with `go run . deploy --stage STAGE`", SettingsEnv)
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	var s Settings
	if err := dec.Decode(&s); err != nil {
		return Settings{}, fmt.Errorf("%s does not hold persona settings: %w", SettingsEnv, err)
	}
	if err := s.Validate(); err != nil {
		return Settings{}, fmt.Errorf("%s: %w", SettingsEnv, err)
	}
	return s, nil
}

// Allows returns a *FieldError for the first model or tool of spec the stage does not
// allow, or nil.
func (s Settings) Allows(spec Spec) error {
	if spec.Model != "" && !slices.Contains(s.Models, spec.Model) {
		offered := "this stage offers none"
		if len(s.Models) > 0 {
			offered = "choose one of " + strings.Join(s.Models, ", ")
		}
		return &FieldError{"model", fmt.Sprintf("%q is not offered here: %s, or leave it out for the runtime's default", spec.Model, offered)}
	}
	for i, tool := range spec.Tools {
		if !slices.Contains(s.Tools, tool) {
			offered := "this stage offers no tools"
			if len(s.Tools) > 0 {
				offered = "the tools offered are " + strings.Join(s.Tools, ", ")
			}
			return &FieldError{fmt.Sprintf("tools[%d]", i), fmt.Sprintf("%q is not offered here: %s", tool, offered)}
		}
	}
	return nil
}
