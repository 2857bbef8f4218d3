// Package secretstore keeps secret values per stage, in SSM Parameter Store or in local files.
//
// Values are addressed by their SSM parameter names (topology.Secret.Parameter and
// FallbackParameter) in both stores, so a stage reads the same names locally and in AWS.
// Values never appear in errors.
package secretstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/personabackend/app/topology"
)

// Store reads, writes and deletes secret values by parameter name.
type Store interface {
	// Get returns the values of those parameters that are set; missing ones are absent from the map.
	Get(ctx context.Context, parameters []string) (map[string]string, error)
	// Present returns the set of those parameters that are set, without reading (or, in
	// SSM, decrypting) any value.
	Present(ctx context.Context, parameters []string) (map[string]bool, error)
	// Put sets every parameter in values. A store that cannot write them all at once
	// says in its error which were written.
	Put(ctx context.Context, values map[string]string) error
	// Delete removes a parameter and reports whether it was set.
	Delete(ctx context.Context, parameter string) (bool, error)
}

// Getter is the part of a Store that Lookup needs.
type Getter interface {
	Get(ctx context.Context, parameters []string) (map[string]string, error)
}

// Presence is the part of a Store that Sources needs.
type Presence interface {
	Present(ctx context.Context, parameters []string) (map[string]bool, error)
}

// Source says where a secret's value for a stage comes from.
type Source int

// Sources of a secret's value.
const (
	Missing  Source = iota // neither the stage nor the fallback has a value
	Stage                  // the stage's own value
	Fallback               // the value shared by stages without their own
)

func (s Source) String() string {
	switch s {
	case Stage:
		return "stage"
	case Fallback:
		return "fallback"
	default:
		return "missing"
	}
}

// Value is a declared secret's value for one stage.
type Value struct {
	Name   string
	Value  string // empty when Source is Missing
	Source Source
}

// Lookup returns the value of each declared secret, in the order given:
// the stage's own value, else the fallback value, else Missing.
func Lookup(ctx context.Context, g Getter, secrets []topology.Secret) ([]Value, error) {
	found, err := g.Get(ctx, parameters(secrets))
	if err != nil {
		return nil, err
	}
	return resolve(secrets, func(param string) (string, bool) {
		v, ok := found[param]
		return v, ok
	}), nil
}

// Sources says where each declared secret's value comes from, as Lookup does, without
// reading any value: every Value it returns has an empty Value field.
func Sources(ctx context.Context, p Presence, secrets []topology.Secret) ([]Value, error) {
	present, err := p.Present(ctx, parameters(secrets))
	if err != nil {
		return nil, err
	}
	return resolve(secrets, func(param string) (string, bool) { return "", present[param] }), nil
}

// parameters lists the parameters that hold the secrets' values: each one's own and its
// fallback, if it has one.
func parameters(secrets []topology.Secret) []string {
	var params []string
	for _, s := range secrets {
		params = append(params, s.Parameter)
		if s.FallbackParameter != "" {
			params = append(params, s.FallbackParameter)
		}
	}
	return params
}

// resolve picks each secret's source: its own parameter if found, else its fallback.
func resolve(secrets []topology.Secret, found func(param string) (string, bool)) []Value {
	values := make([]Value, 0, len(secrets))
	for _, s := range secrets {
		v := Value{Name: s.Name}
		if val, ok := found(s.Parameter); ok {
			v.Value, v.Source = val, Stage
		} else if val, ok := found(s.FallbackParameter); ok && s.FallbackParameter != "" {
			v.Value, v.Source = val, Fallback
		}
		values = append(values, v)
	}
	return values
}

// MissingNames returns the names of the values that have no source.
func MissingNames(values []Value) []string {
	var names []string
	for _, v := range values {
		if v.Source == Missing {
			names = append(names, v.Name)
		}
	}
	return names
}

// MissingError says which declared secrets of a stage have no value, and the
// commands that set them.
type MissingError struct {
	Stage   string
	Names   []string
	Store   string // where the values were looked for, e.g. "SSM Parameter Store"
	Stopped string // what did not happen because of it, e.g. "nothing was deployed"
	Program string // how the user starts the tool, e.g. "go run ."
	// StoreFlag, when set, is repeated in the commands as --store StoreFlag.
	StoreFlag string
	// OwnValuesOnly says that the stage never reads the fallback (a protected stage),
	// so setting a fallback value is no way out.
	OwnValuesOnly bool
}

func (e *MissingError) Error() string {
	storeArg := ""
	if e.StoreFlag != "" {
		storeArg = " --store " + e.StoreFlag
	}
	var b strings.Builder
	fmt.Fprintf(&b, "stage %s is missing %d secret(s) in %s; %s. Set them with:", e.Stage, len(e.Names), e.Store, e.Stopped)
	for _, name := range e.Names {
		fmt.Fprintf(&b, "\n    %s secrets set %s --stage %s%s", e.Program, name, e.Stage, storeArg)
	}
	if e.OwnValuesOnly {
		fmt.Fprintf(&b, "\nStage %s is protected: it reads its own values only, so a fallback value does not count.", e.Stage)
	} else {
		b.WriteString("\nor set one value for every stage with --fallback instead of --stage.")
	}
	return b.String()
}
