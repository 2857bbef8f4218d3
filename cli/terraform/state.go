package terraform

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// StateResource is a managed resource recorded in a stack's state.
type StateResource struct {
	Address string
	ID      string // its id attribute: what `terraform import` takes back
	// Protection is how it is protected from destruction: from its block in the
	// configuration and its values in the state (ProtectionOf).
	Protection Protection
}

// StateResources returns the managed resources in the stack's state, by address,
// each with its protection according to config, the stack's configuration.
func (r *Runner) StateResources(ctx context.Context, config *Config) ([]StateResource, error) {
	var out bytes.Buffer
	if err := r.run(ctx, &out, r.Stderr, "show", "-json"); err != nil {
		return nil, err
	}
	var state struct {
		Values struct {
			RootModule stateModule `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal(out.Bytes(), &state); err != nil {
		return nil, fmt.Errorf("decoding terraform show -json: %w", err)
	}
	var resources []StateResource
	state.Values.RootModule.each(func(res stateResourceJSON) {
		if res.Mode != "managed" {
			return
		}
		block, _ := config.Block(res.Address)
		id, _ := res.Values["id"].(string)
		resources = append(resources, StateResource{Address: res.Address, ID: id, Protection: ProtectionOf(block, res.Values)})
	})
	slices.SortFunc(resources, func(a, b StateResource) int { return strings.Compare(a.Address, b.Address) })
	return resources, nil
}

// stateModule is a module of `terraform show -json`'s state: its resources and those
// of the modules it calls.
type stateModule struct {
	Resources    []stateResourceJSON `json:"resources"`
	ChildModules []stateModule       `json:"child_modules"`
}

type stateResourceJSON struct {
	Address string         `json:"address"`
	Mode    string         `json:"mode"`
	Values  map[string]any `json:"values"`
}

func (m stateModule) each(fn func(stateResourceJSON)) {
	for _, res := range m.Resources {
		fn(res)
	}
	for _, child := range m.ChildModules {
		child.each(fn)
	}
}
