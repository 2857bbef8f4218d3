package backend

import (
	"maps"
	"slices"
	"testing"

	"github.com/personabackend/app/constructs"
)

// The deployer's policy is made from the types a stage declares: every one of them
// must have its deploy permissions.
func TestEveryTypeThePersonaStacksDeclareHasItsDeployPermissions(t *testing.T) {
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	types := map[string]bool{}
	for _, s := range stacks {
		for typ := range s.doc["resource"].(map[string]any) {
			types[typ] = true
		}
		data, _ := s.doc["data"].(map[string]any)
		for typ := range data {
			types["data."+typ] = true
		}
	}
	if _, err := constructs.DeployPermissions(slices.Sorted(maps.Keys(types))...); err != nil {
		t.Error(err)
	}
}
