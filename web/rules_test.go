package web

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/personabackend/app/persona"
)

var update = flag.Bool("update", false, "write src/lib/persona-rules.json from persona.Rules()")

// rulesFile is where the page reads the rules of a persona (src/lib/rules.ts).
const rulesFile = "src/lib/persona-rules.json"

// TestThePageChecksTheAPIsPersonaRules keeps the rules the form checks equal to the
// API's. When persona's rules change, write them again with
// `go test ./web -run PersonaRules -update`.
func TestThePageChecksTheAPIsPersonaRules(t *testing.T) {
	want, err := json.MarshalIndent(persona.Rules(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	if *update {
		if err := os.WriteFile(rulesFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatalf("%v: write it with `go test ./web -run PersonaRules -update`", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from persona.Rules(), so the form would check other rules than the API: "+
			"write it again with `go test ./web -run PersonaRules -update`\nwant:\n%s", rulesFile, want)
	}
}
