// Package persona holds the persona domain: its model, storage in DynamoDB, the provisioning
// task it publishes, and the API and queue handlers built on them.
package persona

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Status is where a persona is in its life.
type Status string

// Statuses move requested → provisioning → ready, or to failed with a reason.
const (
	StatusRequested    Status = "requested"
	StatusProvisioning Status = "provisioning"
	StatusReady        Status = "ready"
	StatusFailed       Status = "failed"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusRequested, StatusProvisioning, StatusReady, StatusFailed:
		return true
	}
	return false
}

// TaskState says whether the provisioning task of a persona was handed to the topic.
type TaskState string

// Task states. A persona stays "pending" between its write and its publish; "publish_failed"
// records that the publish was attempted and failed, so a retry with the same
// Idempotency-Key publishes again.
const (
	TaskPending       TaskState = "pending"
	TaskPublished     TaskState = "published"
	TaskPublishFailed TaskState = "publish_failed"
)

// TimeLayout is how timestamps are stored: RFC 3339 in UTC with fixed-width
// milliseconds, so that their lexical order is their time order (UserIdIndex sorts on it).
const TimeLayout = "2006-01-02T15:04:05.000Z"

// FormatTime formats t in TimeLayout.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// Spec is what a user asks for: the fields of POST /personas.
type Spec struct {
	// Name is what the persona is called, shown to people (1–100 characters).
	Name string `json:"name" dynamodbav:"name"`
	// Description says what the persona is for, shown to people (up to 500 characters).
	Description string `json:"description,omitempty" dynamodbav:"description,omitempty"`
	// Instructions are the persona's standing instructions to the agent, its system prompt
	// (1–8000 characters).
	Instructions string `json:"instructions" dynamodbav:"instructions"`
	// Model names the model the agent runtime should use; empty means the runtime's default.
	Model string `json:"model,omitempty" dynamodbav:"model,omitempty"`
	// Temperature is the sampling temperature, 0 to 2; absent means DefaultTemperature.
	Temperature *float64 `json:"temperature,omitempty" dynamodbav:"temperature,omitempty"`
	// Tools names the tools the agent may call (up to 20, distinct).
	Tools []string `json:"tools,omitempty" dynamodbav:"tools,omitempty"`
}

// Limits on a Spec.
const (
	MaxNameLen         = 100
	MaxDescriptionLen  = 500
	MaxInstructionsLen = 8000
	MaxModelLen        = 100
	MaxTools           = 20
	MaxTemperature     = 2.0
)

var (
	modelPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/-]*$`)
	toolPattern  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
)

func validModel(m string) bool {
	return utf8.RuneCountInString(m) <= MaxModelLen && modelPattern.MatchString(m)
}

// FieldError says which field of a Spec is invalid and why.
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// Validate returns a *FieldError for the first invalid field of s, or nil.
func (s Spec) Validate() error {
	if err := text("name", s.Name, true, false, MaxNameLen); err != nil {
		return err
	}
	if err := text("description", s.Description, false, true, MaxDescriptionLen); err != nil {
		return err
	}
	if err := text("instructions", s.Instructions, true, true, MaxInstructionsLen); err != nil {
		return err
	}
	if s.Model != "" && !validModel(s.Model) {
		return &FieldError{"model", fmt.Sprintf("must be at most %d characters of letters, digits and . _ : / -", MaxModelLen)}
	}
	if s.Temperature != nil && (*s.Temperature < 0 || *s.Temperature > MaxTemperature) {
		return &FieldError{"temperature", fmt.Sprintf("must be between 0 and %g", MaxTemperature)}
	}
	if len(s.Tools) > MaxTools {
		return &FieldError{"tools", fmt.Sprintf("at most %d tools", MaxTools)}
	}
	for i, tool := range s.Tools {
		if !toolPattern.MatchString(tool) {
			return &FieldError{fmt.Sprintf("tools[%d]", i), "must be 1–64 characters of lowercase letters, digits and _, starting with a letter"}
		}
		if slices.Contains(s.Tools[:i], tool) {
			return &FieldError{fmt.Sprintf("tools[%d]", i), fmt.Sprintf("%q is listed twice", tool)}
		}
	}
	return nil
}

// text checks a text field: valid UTF-8, at most max characters, none of them
// forbidden (a multi-line field keeps tab, line feed and carriage return), and, when
// required, more than white space.
func text(field, v string, required, multiline bool, max int) error {
	if !utf8.ValidString(v) {
		return &FieldError{field, "must be valid UTF-8"}
	}
	n := utf8.RuneCountInString(v)
	switch {
	case required && n == 0:
		return &FieldError{field, "is required"}
	case n > max:
		return &FieldError{field, fmt.Sprintf("must be at most %d characters (got %d)", max, n)}
	}
	if i := strings.IndexFunc(v, func(r rune) bool { return forbidden(r, multiline) }); i >= 0 {
		r, _ := utf8.DecodeRuneInString(v[i:])
		return &FieldError{field, fmt.Sprintf("holds U+%04X at character %d, a control or text-direction character; remove it", r, utf8.RuneCountInString(v[:i])+1)}
	}
	if required && strings.TrimFunc(v, unicode.IsSpace) == "" {
		return &FieldError{field, "must not be only white space"}
	}
	return nil
}

// forbidden reports whether a text field may not hold r: a control character (C0,
// DEL, C1), or a bidirectional embedding, override or isolate (U+202A–U+202E,
// U+2066–U+2069), which make text display differently from what it says: the
// "Trojan Source" characters. The marks (U+200E, U+200F, U+061C) stay: right-to-left
// text needs them and they reorder nothing around them.
func forbidden(r rune, multiline bool) bool {
	switch {
	case multiline && (r == '\t' || r == '\n' || r == '\r'):
		return false
	case unicode.IsControl(r):
		return true
	case r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

// Persona is a stored persona.
type Persona struct {
	ID     string `json:"id" dynamodbav:"personaId"`
	UserID string `json:"-" dynamodbav:"userId"`
	Spec
	Status Status `json:"status" dynamodbav:"personaStatus"`
	// StatusReason says why a persona failed.
	StatusReason string `json:"statusReason,omitempty" dynamodbav:"statusReason,omitempty"`
	CreatedAt    string `json:"createdAt" dynamodbav:"createdAt"`
	UpdatedAt    string `json:"updatedAt" dynamodbav:"updatedAt"`
	// Profile is the agent profile the worker built; set once the persona is ready.
	Profile *Profile `json:"profile,omitempty" dynamodbav:"profile,omitempty"`

	// RequestHash fingerprints the Spec a persona was created from, so that a retry
	// with the same Idempotency-Key but a different body is told apart from a true retry.
	RequestHash string    `json:"-" dynamodbav:"requestHash"`
	TaskState   TaskState `json:"-" dynamodbav:"taskState"`
	TaskError   string    `json:"-" dynamodbav:"taskError,omitempty"`
	// InFlightSince is set while the persona is requested or provisioning: when it was
	// last handed to the worker (AttrInFlightSince). It keys StatusIndex.
	InFlightSince string `json:"-" dynamodbav:"inFlightSince,omitempty"`
	// Requeues counts the sweep's publishes of a task that never reached the topic.
	Requeues int `json:"-" dynamodbav:"requeues,omitempty"`
}

// InFlight reports whether the persona is still on its way to ready or failed.
func (s Status) InFlight() bool { return s == StatusRequested || s == StatusProvisioning }
