package terraform

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Action is what a plan does to one resource.
type Action string

// Actions a plan takes on a resource.
const (
	Create  Action = "create"
	Update  Action = "update"
	Delete  Action = "destroy"
	Replace Action = "replace" // destroy and create, in either order
)

// ResourceChange is one resource that a plan creates, updates, destroys or replaces.
type ResourceChange struct {
	Address string
	Action  Action
	// Protection is how the resource is protected from destruction: from its block in
	// the configuration and its values before the change.
	Protection Protection
	// BlockRemoved says the configuration no longer has the resource's block, so what
	// its lifecycle said (prevent_destroy) is gone with it.
	BlockRemoved bool
}

// Destroys reports whether the change destroys the resource (a replace does).
func (c ResourceChange) Destroys() bool { return c.Action == Delete || c.Action == Replace }

// Guarded reports whether destroying the resource needs to be allowed explicitly: it is
// protected, or its block was removed and nothing can tell whether it was.
func (c ResourceChange) Guarded() bool {
	return c.Destroys() && (c.Protection.Protected() || c.BlockRemoved)
}

// why says what makes a destroy guarded, e.g. "prevent_destroy".
func (c ResourceChange) why() string {
	if p := c.Protection.String(); p != "" {
		return p
	}
	return "its block was removed, with whatever prevent_destroy it had"
}

// Plan is what a saved plan changes, read from `terraform show -json`.
type Plan struct {
	// Changes lists the resources the plan changes, by address; resources it leaves
	// alone or only reads are not listed.
	Changes []ResourceChange
	// OutputsChange says that an output's value changes, which applying records.
	OutputsChange bool
}

// Counts returns how many resources the plan adds, changes and destroys, counted as
// terraform counts them: a replace adds one and destroys one.
func (p Plan) Counts() (add, change, destroy int) {
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			add++
		case Update:
			change++
		case Delete:
			destroy++
		case Replace:
			add++
			destroy++
		}
	}
	return add, change, destroy
}

// Empty reports whether applying the plan would change nothing.
func (p Plan) Empty() bool { return len(p.Changes) == 0 && !p.OutputsChange }

// Destructive lists the changes that destroy a resource: destroys and replaces.
func (p Plan) Destructive() []ResourceChange {
	var out []ResourceChange
	for _, c := range p.Changes {
		if c.Destroys() {
			out = append(out, c)
		}
	}
	return out
}

// Guarded lists the destroys and replaces that need to be allowed explicitly
// (ResourceChange.Guarded).
func (p Plan) Guarded() []ResourceChange {
	var out []ResourceChange
	for _, c := range p.Changes {
		if c.Guarded() {
			out = append(out, c)
		}
	}
	return out
}

// WriteSummary writes the plan's counts and every destroy and replace by address,
// marking those that are guarded.
func (p Plan) WriteSummary(w io.Writer) {
	if p.Empty() {
		fmt.Fprintln(w, "Summary: no changes.")
		return
	}
	add, change, destroy := p.Counts()
	fmt.Fprintf(w, "Summary: %d to add, %d to change, %d to destroy.\n", add, change, destroy)
	if len(p.Changes) == 0 {
		fmt.Fprintln(w, "Only outputs change.")
	}
	destructive := p.Destructive()
	if len(destructive) == 0 {
		return
	}
	fmt.Fprintln(w, "Destroyed or replaced:")
	for _, c := range destructive {
		line := fmt.Sprintf("  %-8s %s", c.Action, c.Address)
		if c.Guarded() {
			line += "   PROTECTED: " + c.why()
		}
		fmt.Fprintln(w, line)
	}
}

// ReadPlan reads the JSON of `terraform show -json PLANFILE`, taking each resource's
// protection from config, the stack the plan was made from.
func ReadPlan(data []byte, config *Config) (Plan, error) {
	var doc struct {
		ResourceChanges []struct {
			Address string `json:"address"`
			Mode    string `json:"mode"`
			Change  struct {
				Actions []string       `json:"actions"`
				Before  map[string]any `json:"before"`
			} `json:"change"`
		} `json:"resource_changes"`
		OutputChanges map[string]struct {
			Actions []string `json:"actions"`
		} `json:"output_changes"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return Plan{}, fmt.Errorf("decoding terraform show -json of the plan: %w", err)
	}
	var plan Plan
	for _, rc := range doc.ResourceChanges {
		if rc.Mode != "managed" {
			continue
		}
		action := actionOf(rc.Change.Actions)
		if action == "" {
			continue
		}
		block, inConfig := config.Block(rc.Address)
		plan.Changes = append(plan.Changes, ResourceChange{
			Address:      rc.Address,
			Action:       action,
			Protection:   ProtectionOf(block, rc.Change.Before),
			BlockRemoved: !inConfig,
		})
	}
	slices.SortFunc(plan.Changes, func(a, b ResourceChange) int { return strings.Compare(a.Address, b.Address) })
	for _, oc := range doc.OutputChanges {
		if actionOf(oc.Actions) != "" {
			plan.OutputsChange = true
		}
	}
	return plan, nil
}

// actionOf turns terraform's list of actions into an Action; "" for no change (no-op,
// read). Actions of newer terraform versions, such as forget, are kept by name.
func actionOf(actions []string) Action {
	switch joined := strings.Join(actions, ","); joined {
	case "no-op", "read", "":
		return ""
	case "create":
		return Create
	case "update":
		return Update
	case "delete":
		return Delete
	case "delete,create", "create,delete":
		return Replace
	default:
		return Action(joined)
	}
}

// PlanFile writes a plan of what apply would change to file (relative to the stack's
// folder) and shows it.
func (r *Runner) PlanFile(ctx context.Context, file string) error {
	return r.run(ctx, r.Stdout, r.Stderr, r.withColor("plan", "-input=false", "-out="+file)...)
}

// ShowPlan reads the saved plan in file.
func (r *Runner) ShowPlan(ctx context.Context, file string) (Plan, error) {
	config, err := ReadConfig(r.Dir)
	if err != nil {
		return Plan{}, err
	}
	var out bytes.Buffer
	if err := r.run(ctx, &out, r.Stderr, "show", "-json", file); err != nil {
		return Plan{}, err
	}
	return ReadPlan(out.Bytes(), config)
}

// ApplyPlan applies exactly the saved plan in file. Terraform refuses a plan that is
// stale: one made before another run changed the state.
func (r *Runner) ApplyPlan(ctx context.Context, file string) error {
	return r.run(ctx, r.Stdout, r.Stderr, r.withColor("apply", "-input=false", file)...)
}
