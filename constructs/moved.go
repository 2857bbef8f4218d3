package constructs

import (
	"fmt"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// moveSet holds a stack's declared construct moves and the constructs whose ids
// derive from another's (a route's function from its API, a worker from its queue),
// which move with it.
type moveSet struct {
	moves   []move
	derived map[string][]string // owner id -> suffixes of the ids derived from it
}

type move struct {
	from, to string
}

// Moved declares that the construct now at path to was at path from before (paths
// are construct ids below the stack joined with "/", e.g. "PersonaTable" or
// "BackendApi/GetPersonas"). When the stack synthesizes, every resource under to gets
// a Terraform moved block from its old address, so terraform moves its state
// instead of destroying the resource and creating it again. Constructs whose ids
// derive from a moved top-level construct (an API's route functions, a queue's
// worker) move with it.
//
// Keep the call until every stage, personal ones included, has been deployed with
// it: a stage still holding the old address in its state needs the moved block.
func (s *Stack) Moved(from, to string) error {
	for _, p := range []string{from, to} {
		if err := validateConstructPath(p); err != nil {
			return fmt.Errorf("moved from %q to %q: %w", from, to, err)
		}
	}
	if from == to {
		return fmt.Errorf("moved from %q to %q: the paths are the same, so nothing moves", from, to)
	}
	for _, m := range s.moves.moves {
		if m.to == to {
			return fmt.Errorf("moved from %q to %q: %q is already declared as moved from %q; a resource can be moved from one address only", from, to, to, m.from)
		}
		if m.from == from {
			return fmt.Errorf("moved from %q to %q: %q is already declared as moved to %q", from, to, from, m.to)
		}
	}
	s.moves.moves = append(s.moves.moves, move{from: from, to: to})
	return nil
}

func validateConstructPath(path string) error {
	if path == "" {
		return fmt.Errorf("a construct path is required, e.g. \"PersonaTable\" or \"BackendApi/GetPersonas\"")
	}
	for _, part := range strings.Split(path, "/") {
		if part == "" {
			return fmt.Errorf("construct path %q has an empty part: write construct ids joined by single slashes, without a leading or trailing slash", path)
		}
	}
	return nil
}

// derive returns the id of a construct derived from owner's id, and remembers it so
// that moving owner moves it too.
func (s *Stack) derive(owner, suffix string) string {
	if s.moves.derived == nil {
		s.moves.derived = map[string][]string{}
	}
	s.moves.derived[owner] = append(s.moves.derived[owner], suffix)
	return owner + suffix
}

// applyMoves gives every resource under each moved construct its moved block.
// It runs once all constructs are declared, just before synthesis.
//
// The blocks are a stack-level override rather than CDKTF's moveFromId, which
// makes synth run `terraform version` and fail where terraform is not installed;
// synth needs no terraform.
func (s *Stack) applyMoves() error {
	var all []move
	for _, m := range s.moves.moves {
		all = append(all, m)
		if strings.Contains(m.to, "/") || strings.Contains(m.from, "/") {
			continue
		}
		for _, suffix := range s.moves.derived[m.to] {
			all = append(all, move{from: m.from + suffix, to: m.to + suffix})
		}
	}
	var blocks []map[string]string
	movedTo := map[string]bool{}
	for _, m := range all {
		moved, err := s.movedBlocks(m)
		if err != nil {
			return fmt.Errorf("%s: moved from %q to %q: %w", s.Name(), m.from, m.to, err)
		}
		for _, block := range moved {
			if movedTo[block["to"]] {
				return fmt.Errorf("%s: moved from %q to %q: %s is already moved by another declaration: declare one move per construct", s.Name(), m.from, m.to, block["to"])
			}
			movedTo[block["to"]] = true
		}
		blocks = append(blocks, moved...)
	}
	if len(blocks) > 0 {
		s.stack.AddOverride(jsii.String("moved"), blocks)
	}
	return nil
}

// movedBlocks returns the moved block of every resource under the construct m.to.
func (s *Stack) movedBlocks(m move) ([]map[string]string, error) {
	target := s.findConstruct(m.to)
	if target == nil {
		return nil, fmt.Errorf("the stack has no construct %q: name the construct's path as it is now", m.to)
	}
	if s.findConstruct(m.from) != nil {
		return nil, fmt.Errorf("a construct %q still exists, so its resources would keep their addresses and the move would collide with them: give the moved construct its new id", m.from)
	}
	var blocks []map[string]string
	for _, c := range *target.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		if !*cdktf.TerraformResource_IsTerraformResource(c) {
			continue
		}
		resource, ok := c.(cdktf.TerraformResource)
		if !ok {
			return nil, fmt.Errorf("construct %s is a Terraform resource without Go bindings", *c.Node().Path())
		}
		oldID, err := s.logicalIDAt(append(strings.Split(m.from, "/"), relativeIDs(target, c)...))
		if err != nil {
			return nil, err
		}
		typ := *resource.TerraformResourceType()
		blocks = append(blocks, map[string]string{"from": typ + "." + oldID, "to": typ + "." + *resource.FriendlyUniqueId()})
	}
	if len(blocks) == 0 {
		return nil, fmt.Errorf("construct %q holds no Terraform resource, so nothing would move", m.to)
	}
	return blocks, nil
}

// findConstruct returns the construct at a path below the stack, or nil.
func (s *Stack) findConstruct(path string) constructs.IConstruct {
	var c constructs.IConstruct = s.stack
	for _, id := range strings.Split(path, "/") {
		if c = c.Node().TryFindChild(jsii.String(id)); c == nil {
			return nil
		}
	}
	return c
}

// relativeIDs lists the construct ids from below ancestor down to c.
func relativeIDs(ancestor, c constructs.IConstruct) []string {
	scopes := *c.Node().Scopes()
	depth := len(*ancestor.Node().Scopes())
	ids := make([]string, 0, len(scopes)-depth)
	for _, scope := range scopes[depth:] {
		ids = append(ids, *scope.Node().Id())
	}
	return ids
}

// logicalIDAt is the Terraform resource name CDKTF gives a resource at path below
// the stack. CDKTF computes it from the path, so a placeholder construct is put at
// the path for CDKTF to name, then taken away again.
func (s *Stack) logicalIDAt(path []string) (string, error) {
	var parent constructs.Construct = s.stack
	var placeholderScope constructs.Construct
	placeholder := ""
	for _, id := range path {
		if existing := parent.Node().TryFindChild(jsii.String(id)); existing != nil {
			child, ok := existing.(constructs.Construct)
			if !ok {
				return "", fmt.Errorf("construct %s cannot be walked from Go", *existing.Node().Path())
			}
			parent = child
			continue
		}
		if placeholder == "" {
			placeholderScope, placeholder = parent, id
		}
		parent = constructs.NewConstruct(parent, jsii.String(id))
	}
	if placeholder == "" {
		return "", fmt.Errorf("a construct %q still exists: the old address is still in use", strings.Join(path, "/"))
	}
	defer placeholderScope.Node().TryRemoveChild(jsii.String(placeholder))
	return *s.stack.GetLogicalId(parent.Node()), nil
}
