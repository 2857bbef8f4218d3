package persona

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Defaults an agent profile takes when the persona leaves them open.
const (
	DefaultModel       = "default"
	DefaultTemperature = 0.7
	ProfileVersion     = 1
)

// Profile is the agent profile built from a persona: what an agent runtime loads to run it.
type Profile struct {
	Version      int      `json:"version" dynamodbav:"version"`
	PersonaID    string   `json:"personaId" dynamodbav:"personaId"`
	SystemPrompt string   `json:"systemPrompt" dynamodbav:"systemPrompt"`
	Model        string   `json:"model" dynamodbav:"model"`
	Temperature  float64  `json:"temperature" dynamodbav:"temperature"`
	Tools        []string `json:"tools" dynamodbav:"tools"`
	IssuedAt     string   `json:"issuedAt" dynamodbav:"issuedAt"`
	// Signature is the hex HMAC-SHA256, keyed with the API key, of the profile's JSON
	// with Signature empty; an agent runtime holding the key can check that the profile
	// came from this backend unaltered.
	Signature string `json:"signature" dynamodbav:"signature"`
}

// SecretGetter returns the value of a linked secret; package resource/secrets provides it.
type SecretGetter interface {
	Get(ctx context.Context, name string) (string, error)
}

// ErrInvalidPersona means a persona cannot be provisioned whatever the number of attempts.
var ErrInvalidPersona = errors.New("persona cannot be provisioned")

// Provisioner builds agent profiles.
type Provisioner struct {
	Secrets SecretGetter
	Now     func() time.Time
	// Settings say which models and tools a profile may name.
	Settings Settings
}

// Provision builds and signs the agent profile of p. Errors wrapping ErrInvalidPersona
// are permanent; others (the key could not be read) may pass on a later attempt. A
// persona naming a model or tool the stage does not offer, now, is invalid: the
// allow-lists are checked here, before signing, whatever the request was told.
func (pr *Provisioner) Provision(ctx context.Context, p Persona) (Profile, error) {
	if err := p.Spec.Validate(); err != nil {
		return Profile{}, fmt.Errorf("%w: %w", ErrInvalidPersona, err)
	}
	if err := pr.Settings.Allows(p.Spec); err != nil {
		return Profile{}, fmt.Errorf("%w: %w", ErrInvalidPersona, err)
	}
	key, err := pr.Secrets.Get(ctx, APIKeySecret)
	if err != nil {
		return Profile{}, fmt.Errorf("reading the signing key: %w", err)
	}
	profile := Profile{
		Version:      ProfileVersion,
		PersonaID:    p.ID,
		SystemPrompt: systemPrompt(p.Spec),
		Model:        p.Model,
		Temperature:  DefaultTemperature,
		Tools:        append([]string{}, p.Tools...),
		IssuedAt:     FormatTime(pr.Now()),
	}
	if profile.Model == "" {
		profile.Model = DefaultModel
	}
	if p.Temperature != nil {
		profile.Temperature = *p.Temperature
	}
	sig, err := Sign(profile, key)
	if err != nil {
		return Profile{}, err
	}
	profile.Signature = sig
	return profile, nil
}

// Sign returns the signature of profile under key, ignoring any signature it holds.
func Sign(profile Profile, key string) (string, error) {
	profile.Signature = ""
	body, err := json.Marshal(profile)
	if err != nil {
		return "", fmt.Errorf("encoding profile of persona %s: %w", profile.PersonaID, err)
	}
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil)), nil
}

func systemPrompt(s Spec) string {
	var b strings.Builder
	fmt.Fprintf(&b, "You are %s.", s.Name)
	if s.Description != "" {
		b.WriteString(" ")
		b.WriteString(s.Description)
	}
	b.WriteString("\n\n")
	b.WriteString(s.Instructions)
	return b.String()
}
