package backend

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/personabackend/app/constructs"
)

// The golden files hold, per built-in stage, every resource address Terraform sees
// and the arguments that identify each resource. `make golden` rewrites them.
var (
	update     = flag.Bool("update", false, "rewrite the golden files from this synth (make golden); refuses to drop a stateful address")
	initGolden = flag.Bool("init", false, "with -update: create golden files that do not exist yet (a new built-in stage)")
	forget     = flag.String("forget", "", "with -update: comma-separated stateful addresses to stop guarding, because the resource is destroyed on purpose or every stage has applied its move")
)

const goldenNote = "Terraform addresses and identity of this stage's resources. A removed address is destroyed in every deployed stack of the stage. Regenerate with `make golden`; see README, Changing resource addresses."

// golden is one stage's golden file.
type golden struct {
	Note      string                    `json:"//"`
	Stack     string                    `json:"stack"`
	Resources map[string]goldenResource `json:"resources"`
	Moved     []movedBlock              `json:"moved,omitempty"`
	// Stateful lists every stateful address the stage has had: -update only adds
	// to it, so no regeneration can silently drop one (see statefulLosses).
	Stateful []string `json:"stateful"`
}

type goldenResource struct {
	Path     string         `json:"path"` // the construct path below the stack
	Stateful bool           `json:"stateful,omitempty"`
	Replace  map[string]any `json:"forces_replacement,omitempty"`
	InPlace  map[string]any `json:"changes_in_place,omitempty"`
}

type movedBlock struct {
	From string `json:"from"`
	To   string `json:"to"`
}

func goldenPath(stack string) string {
	return filepath.Join("testdata", "golden", stack+".json")
}

// goldenOf reads the addresses and identities out of a synthesized stack.
func goldenOf(stack string, doc map[string]any) (golden, error) {
	g := golden{Note: goldenNote, Stack: stack, Resources: map[string]goldenResource{}, Stateful: []string{}}
	resources, _ := doc["resource"].(map[string]any)
	var unknown []string
	for typ, byName := range resources {
		id, ok := identities[typ]
		if !ok {
			unknown = append(unknown, typ)
			continue
		}
		for name, raw := range byName.(map[string]any) {
			r := raw.(map[string]any)
			address := typ + "." + name
			gr := goldenResource{Path: constructPath(stack, r), Stateful: id.stateful, Replace: pick(r, id.replace), InPlace: pick(r, id.inPlace)}
			if id.keyAttributes {
				if keys := keyAttributes(r); len(keys) > 0 {
					if gr.Replace == nil {
						gr.Replace = map[string]any{}
					}
					gr.Replace["attribute"] = keys
				}
			}
			g.Resources[address] = gr
			if id.stateful {
				g.Stateful = append(g.Stateful, address)
			}
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return g, fmt.Errorf("%s declares resource types the golden test does not know: %s. Add each to identities in backend/identity_test.go with the arguments that force its replacement (ForceNew in the AWS provider 5.84's schema) and whether it holds data", stack, strings.Join(unknown, ", "))
	}
	moved, _ := doc["moved"].([]any)
	for _, m := range moved {
		block := m.(map[string]any)
		from, _ := block["from"].(string)
		to, _ := block["to"].(string)
		g.Moved = append(g.Moved, movedBlock{From: from, To: to})
	}
	sort.Slice(g.Moved, func(i, j int) bool { return g.Moved[i].From < g.Moved[j].From })
	sort.Strings(g.Stateful)
	return g, nil
}

func constructPath(stack string, r map[string]any) string {
	meta, _ := r["//"].(map[string]any)
	metadata, _ := meta["metadata"].(map[string]any)
	path, _ := metadata["path"].(string)
	return strings.TrimPrefix(path, stack+"/")
}

func pick(r map[string]any, args []string) map[string]any {
	var out map[string]any
	for _, arg := range args {
		if v, ok := r[arg]; ok {
			if out == nil {
				out = map[string]any{}
			}
			out[arg] = v
		}
	}
	return out
}

// keyAttributes are the attribute definitions of a table's hash and range keys.
func keyAttributes(r map[string]any) []any {
	keys := map[any]bool{r["hash_key"]: true}
	if rk, ok := r["range_key"]; ok {
		keys[rk] = true
	}
	attrs, _ := r["attribute"].([]any)
	var out []any
	for _, a := range attrs {
		if keys[a.(map[string]any)["name"]] {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return fmt.Sprint(out[i].(map[string]any)["name"]) < fmt.Sprint(out[j].(map[string]any)["name"])
	})
	return out
}

func readGolden(path string) (golden, error) {
	var g golden
	data, err := os.ReadFile(path)
	if err != nil {
		return g, err
	}
	if err := json.Unmarshal(data, &g); err != nil {
		return g, fmt.Errorf("%s is not a golden file (fix or restore it from git): %w", path, err)
	}
	return g, nil
}

func writeGolden(path string, g golden) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(g); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// change is one recorded argument that differs.
type change struct {
	arg      string
	was, now string
}

func (c change) String() string { return fmt.Sprintf("%s %s -> %s", c.arg, c.was, c.now) }

func changes(was, now map[string]any) []change {
	var out []change
	for _, arg := range sortedKeys(was, now) {
		w, n := jsonText(was[arg]), jsonText(now[arg])
		if w != n {
			out = append(out, change{arg: arg, was: w, now: n})
		}
	}
	return out
}

func sortedKeys(maps ...map[string]any) []string {
	seen := map[string]bool{}
	var keys []string
	for _, m := range maps {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

func jsonText(v any) string {
	if v == nil {
		return "(unset)"
	}
	data, _ := json.Marshal(v)
	return string(data)
}

// goldenDiff is what applying a synth would do, seen from the golden file.
type goldenDiff struct {
	destroyed, created []string
	moved              []movedBlock // golden addresses a moved block carries to new ones
	replaced, inPlace  map[string][]change
	movedWas, movedNow []movedBlock
}

// follow returns where now's moved blocks carry address, and whether a resource is there.
func follow(address string, now golden) (string, bool) {
	movedTo := map[string]string{}
	for _, m := range now.Moved {
		movedTo[m.From] = m.To
	}
	at := address
	for hops := 0; hops <= len(movedTo); hops++ {
		if _, present := now.Resources[at]; present {
			return at, true
		}
		next, ok := movedTo[at]
		if !ok {
			break
		}
		at = next
	}
	return at, false
}

func diffGolden(was, now golden) goldenDiff {
	d := goldenDiff{replaced: map[string][]change{}, inPlace: map[string][]change{}}
	arrived := map[string]bool{}
	for address, w := range was.Resources {
		n, ok := now.Resources[address]
		if !ok {
			if to, present := follow(address, now); present {
				d.moved = append(d.moved, movedBlock{From: address, To: to})
				arrived[to] = true
				n = now.Resources[to]
			} else {
				d.destroyed = append(d.destroyed, address)
				continue
			}
		}
		if c := changes(w.Replace, n.Replace); len(c) > 0 {
			d.replaced[address] = c
		}
		if c := changes(w.InPlace, n.InPlace); len(c) > 0 {
			d.inPlace[address] = c
		}
	}
	for address := range now.Resources {
		if _, ok := was.Resources[address]; !ok && !arrived[address] {
			d.created = append(d.created, address)
		}
	}
	sort.Slice(d.moved, func(i, j int) bool { return d.moved[i].From < d.moved[j].From })
	sort.Strings(d.destroyed)
	sort.Strings(d.created)
	if jsonText(was.Moved) != jsonText(now.Moved) {
		d.movedWas, d.movedNow = was.Moved, now.Moved
	}
	return d
}

func (d goldenDiff) empty() bool {
	return len(d.destroyed)+len(d.created)+len(d.moved)+len(d.replaced)+len(d.inPlace) == 0 && d.movedWas == nil && d.movedNow == nil
}

func (d goldenDiff) report(was, now golden) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s differs from %s: applying it changes these resources in every deployed %s stack.\n", now.Stack, goldenPath(now.Stack), now.Stack)
	if len(d.destroyed)+len(d.created) > 0 {
		b.WriteString("\nDestroyed, and created anew (the address changes or the resource goes):\n")
		for _, a := range d.destroyed {
			note := ""
			if was.Resources[a].Stateful {
				note = ", STATEFUL: its data is lost"
			}
			fmt.Fprintf(&b, "  - %s  (construct %s%s)\n", a, was.Resources[a].Path, note)
		}
		for _, a := range d.created {
			fmt.Fprintf(&b, "  + %s  (construct %s)\n", a, now.Resources[a].Path)
		}
	}
	if len(d.moved) > 0 {
		b.WriteString("\nMoved (a moved block carries the state; nothing is destroyed):\n")
		for _, m := range d.moved {
			fmt.Fprintf(&b, "  > %s -> %s  (construct %s -> %s)\n", m.From, m.To, was.Resources[m.From].Path, now.Resources[m.To].Path)
		}
	}
	for _, group := range []struct {
		title string
		by    map[string][]change
	}{
		{"\nReplaced, i.e. destroyed and created (an argument that forces replacement changed):\n", d.replaced},
		{"\nChanged in place (a name people or other systems may use):\n", d.inPlace},
	} {
		if len(group.by) == 0 {
			continue
		}
		b.WriteString(group.title)
		for _, a := range sortedChangeKeys(group.by) {
			for _, c := range group.by[a] {
				fmt.Fprintf(&b, "  ~ %s  (construct %s): %s\n", a, now.Resources[a].Path, c)
			}
		}
	}
	if d.movedWas != nil || d.movedNow != nil {
		b.WriteString("\nThe moved blocks changed; drop one only once every stage, personal ones too, has applied it:\n")
		for _, m := range d.movedWas {
			fmt.Fprintf(&b, "  was %s -> %s\n", m.From, m.To)
		}
		for _, m := range d.movedNow {
			fmt.Fprintf(&b, "  now %s -> %s\n", m.From, m.To)
		}
	}
	if len(d.destroyed)+len(d.created) > 0 {
		b.WriteString("\nTo keep a resource whose construct id changed, keep the id, or declare the move in the stack's\n" +
			"definition so that Terraform moves its state instead of destroying it:\n")
		suggestions := suggestMoves(d, was, now)
		if len(suggestions) == 0 {
			suggestions = []string{`stack.Moved("OldPath", "NewPath")`}
		}
		for _, s := range suggestions {
			fmt.Fprintf(&b, "    %s\n", s)
		}
		b.WriteString("(an API's route functions and a queue's worker move with it).\n")
	}
	if len(d.replaced) > 0 {
		b.WriteString("\nA replaced resource is kept only by keeping the arguments that force its replacement.\n")
	}
	b.WriteString("\nIf the change is intended, accept it with `make golden` and commit the diff of backend/testdata/golden/.\n")
	return b.String()
}

func sortedChangeKeys(m map[string][]change) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// suggestMoves pairs destroyed and created resources that differ only in the
// construct path above a common tail, and proposes the Moved calls that keep them.
func suggestMoves(d goldenDiff, was, now golden) []string {
	type pair struct{ from, to string }
	candidates := map[pair]bool{}
	for _, gone := range d.destroyed {
		for _, made := range d.created {
			if strings.SplitN(gone, ".", 2)[0] != strings.SplitN(made, ".", 2)[0] {
				continue
			}
			from, to := strings.Split(was.Resources[gone].Path, "/"), strings.Split(now.Resources[made].Path, "/")
			for len(from) > 1 && len(to) > 1 && from[len(from)-1] == to[len(to)-1] {
				from, to = from[:len(from)-1], to[:len(to)-1]
			}
			if len(from) == len(to) && strings.Join(from[:len(from)-1], "/") == strings.Join(to[:len(to)-1], "/") {
				candidates[pair{strings.Join(from, "/"), strings.Join(to, "/")}] = true
			}
		}
	}
	// Keep a pair only when it is the one way to read both paths, and leave out
	// derived constructs (BackendApiGetPersonas follows BackendApi).
	fromCount, toCount := map[string]int{}, map[string]int{}
	for p := range candidates {
		fromCount[p.from]++
		toCount[p.to]++
	}
	var out []string
	for p := range candidates {
		if fromCount[p.from] > 1 || toCount[p.to] > 1 {
			continue
		}
		derived := false
		for q := range candidates {
			if q != p && !strings.Contains(q.from, "/") && strings.HasPrefix(p.from, q.from) && strings.HasPrefix(p.to, q.to) &&
				strings.TrimPrefix(p.from, q.from) == strings.TrimPrefix(p.to, q.to) {
				derived = true
			}
		}
		if !derived {
			out = append(out, fmt.Sprintf("stack.Moved(%q, %q)", p.from, p.to))
		}
	}
	sort.Strings(out)
	return out
}

// statefulLosses lists the stateful resources that applying now would destroy:
// every address in ledger must still exist or be carried by moved blocks to one
// that does, and keep the arguments that would otherwise replace it.
func statefulLosses(ledger []string, was map[string]goldenResource, now golden, forgotten map[string]bool) []string {
	var losses []string
	for _, address := range ledger {
		if forgotten[address] {
			continue
		}
		at, present := follow(address, now)
		path := was[address].Path
		if !present {
			losses = append(losses, fmt.Sprintf("%s (construct %s): no resource has this address now, and no moved block carries it to one", address, path))
			continue
		}
		if c := changes(was[address].Replace, now.Resources[at].Replace); len(c) > 0 && was[address].Replace != nil {
			losses = append(losses, fmt.Sprintf("%s (construct %s): replaced, because %s", address, path, joinChanges(c)))
		}
	}
	return losses
}

// accept is the golden file -update writes for now: refused, with the losses,
// when it would drop a stateful address that forgotten does not name. Its stateful
// list keeps every address it had, less the forgotten ones.
func accept(was, now golden, forgotten map[string]bool) (golden, []string) {
	if losses := statefulLosses(was.Stateful, was.Resources, now, forgotten); len(losses) > 0 {
		return golden{}, losses
	}
	// A forgotten address stops being guarded only when it is gone: one that was
	// replaced in place is a stateful resource of the new stack, guarded again.
	ledger := map[string]bool{}
	for _, a := range was.Stateful {
		if !forgotten[a] {
			ledger[a] = true
		}
	}
	for _, a := range now.Stateful {
		ledger[a] = true
	}
	now.Stateful = make([]string, 0, len(ledger))
	for a := range ledger {
		now.Stateful = append(now.Stateful, a)
	}
	sort.Strings(now.Stateful)
	return now, nil
}

func joinChanges(cs []change) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.String()
	}
	return strings.Join(parts, "; ")
}

func lossReport(stack string, losses []string, refusing bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: stateful resources would be DESTROYED, and their data with them:\n", stack)
	for _, l := range losses {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	if refusing {
		b.WriteString("\nmake golden refuses to accept this.")
	}
	b.WriteString("\nKeep the construct id, or declare the rename so a moved block carries the state:\n" +
		"    stack.Moved(\"OldPath\", \"NewPath\")\n" +
		"and keep the arguments that force replacement (names, keys) as they are.\n" +
		"If destroying the data is intended, say so by name, and why in the commit message:\n" +
		"    make golden FORGET=address[,address]\n")
	return b.String()
}

func forgottenAddresses() map[string]bool {
	out := map[string]bool{}
	for _, a := range strings.Split(*forget, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out[a] = true
		}
	}
	return out
}

// goldenStacks returns the golden form of each built-in stage's synthesized stack.
func goldenStacks(t *testing.T) []golden {
	t.Helper()
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	var out []golden
	for _, stage := range constructs.BuiltInStageNames() {
		name := App + "-" + stage
		s, ok := stacks[name]
		if !ok {
			t.Fatalf("no %s stack was synthesized", name)
		}
		g, err := goldenOf(name, s.doc)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, g)
	}
	return out
}

// TestGoldenAddresses fails when a built-in stage's resource addresses or identifying
// arguments differ from its golden file; with -update (make golden) it rewrites them,
// all of them or, when one stage refuses, none.
func TestGoldenAddresses(t *testing.T) {
	forgotten := forgottenAddresses()
	unused := map[string]bool{}
	for a := range forgotten {
		unused[a] = true
	}
	var accepted []golden
	for _, now := range goldenStacks(t) {
		path := goldenPath(now.Stack)
		was, err := readGolden(path)
		missing := errors.Is(err, fs.ErrNotExist)
		if err != nil && !missing {
			t.Fatal(err)
		}
		if !*update {
			if missing {
				t.Errorf("%s has no golden file %s: create it with go test ./backend -run Golden -update -init, and commit it", now.Stack, path)
				continue
			}
			if d := diffGolden(was, now); !d.empty() {
				t.Error(d.report(was, now))
			}
			continue
		}
		if missing && !*initGolden {
			t.Errorf("%s has no golden file %s. A deleted golden file cannot be regenerated by make golden: restore it from git. For a new built-in stage, create it with go test ./backend -run Golden -update -init", now.Stack, path)
			continue
		}
		for _, a := range was.Stateful {
			delete(unused, a)
		}
		g, losses := accept(was, now, forgotten)
		if len(losses) > 0 {
			t.Error(lossReport(now.Stack, losses, true))
			continue
		}
		accepted = append(accepted, g)
	}
	for a := range unused {
		t.Errorf("-forget names %s, which no golden file guards: check the address", a)
	}
	if t.Failed() {
		return
	}
	for _, g := range accepted {
		if err := writeGolden(goldenPath(g.Stack), g); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d resources)", goldenPath(g.Stack), len(g.Resources))
	}
}

// TestGoldenStatefulAddresses fails when a stateful resource the golden files have
// ever recorded (tables, user pools, queues, log groups, buckets) would be destroyed:
// its address is gone without a moved block, or an argument that replaces it changed.
// make golden cannot silence it: their stateful list only grows, but for addresses
// named with FORGET.
func TestGoldenStatefulAddresses(t *testing.T) {
	for _, now := range goldenStacks(t) {
		was, err := readGolden(goldenPath(now.Stack))
		if err != nil {
			t.Errorf("%s: %v (restore the golden file from git, or create it: go test ./backend -run Golden -update -init)", now.Stack, err)
			continue
		}
		if losses := statefulLosses(was.Stateful, was.Resources, now, nil); len(losses) > 0 {
			t.Error(lossReport(now.Stack, losses, false))
		}
	}
}

// renamed returns a copy of doc in which every resource whose construct path starts
// with the construct id from is under the id to instead, as a renamed construct is.
func renamed(t *testing.T, doc map[string]any, stack, from, to string) map[string]any {
	t.Helper()
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	for _, byName := range out["resource"].(map[string]any) {
		resources := byName.(map[string]any)
		for name, raw := range resources {
			if !strings.HasPrefix(name, from) {
				continue
			}
			r := raw.(map[string]any)
			meta := r["//"].(map[string]any)["metadata"].(map[string]any)
			meta["path"] = stack + "/" + to + strings.TrimPrefix(meta["path"].(string), stack+"/"+from)
			delete(resources, name)
			resources[to+strings.TrimPrefix(name, from)] = r
		}
	}
	return out
}

func withMoved(doc map[string]any, blocks ...movedBlock) map[string]any {
	var moved []any
	for _, b := range blocks {
		moved = append(moved, map[string]any{"from": b.From, "to": b.To})
	}
	doc["moved"] = moved
	return doc
}

func TestTheGoldenChecksCatchWhatWouldDestroyData(t *testing.T) {
	if synthErr != nil {
		t.Fatal(synthErr)
	}
	const stack = "persona-dev"
	base := stacks[stack].doc
	was, err := goldenOf(stack, base)
	if err != nil {
		t.Fatal(err)
	}
	const table = "aws_dynamodb_table.PersonaTable_table_B23944E2"
	const movedTable = "aws_dynamodb_table.Personas_table_B23944E2"
	if _, ok := was.Resources[table]; !ok {
		t.Fatalf("the test expects %s in %s", table, stack)
	}
	golden := func(doc map[string]any) golden {
		g, err := goldenOf(stack, doc)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}

	t.Run("a renamed table construct is destroyed and created, and make golden refuses it", func(t *testing.T) {
		now := golden(renamed(t, base, stack, "PersonaTable", "Personas"))
		d := diffGolden(was, now)
		if strings.Join(d.destroyed, ",") != table || strings.Join(d.created, ",") != movedTable {
			t.Errorf("destroyed %v, created %v", d.destroyed, d.created)
		}
		report := d.report(was, now)
		for _, want := range []string{"STATEFUL: its data is lost", `stack.Moved("PersonaTable", "Personas")`, "make golden"} {
			if !strings.Contains(report, want) {
				t.Errorf("the report does not say %q:\n%s", want, report)
			}
		}
		if _, losses := accept(was, now, nil); len(losses) != 1 || !strings.Contains(losses[0], table) {
			t.Errorf("make golden accepted it; losses %v", losses)
		}
	})

	t.Run("a renamed table construct with a moved block keeps its data, and both addresses stay guarded", func(t *testing.T) {
		now := golden(withMoved(renamed(t, base, stack, "PersonaTable", "Personas"), movedBlock{table, movedTable}))
		d := diffGolden(was, now)
		if len(d.destroyed)+len(d.created) != 0 || len(d.moved) != 1 || d.moved[0] != (movedBlock{table, movedTable}) {
			t.Errorf("destroyed %v, created %v, moved %v", d.destroyed, d.created, d.moved)
		}
		accepted, losses := accept(was, now, nil)
		if len(losses) > 0 {
			t.Fatalf("make golden refused a moved table: %v", losses)
		}
		ledger := strings.Join(accepted.Stateful, ",")
		if !strings.Contains(ledger, table) || !strings.Contains(ledger, movedTable) {
			t.Errorf("stateful list %v, want both addresses", accepted.Stateful)
		}
		// Dropping the moved block later loses the old address again.
		later := golden(renamed(t, base, stack, "PersonaTable", "Personas"))
		if losses := statefulLosses(accepted.Stateful, accepted.Resources, later, nil); len(losses) != 1 || !strings.Contains(losses[0], table) {
			t.Errorf("without its moved block: losses %v", losses)
		}
	})

	t.Run("a renamed table name replaces the table", func(t *testing.T) {
		doc := renamed(t, base, stack, "Nothing", "Nothing")
		doc["resource"].(map[string]any)["aws_dynamodb_table"].(map[string]any)["PersonaTable_table_B23944E2"].(map[string]any)["name"] = "persona-dev-people"
		now := golden(doc)
		d := diffGolden(was, now)
		if c := d.replaced[table]; len(c) != 1 || c[0].arg != "name" {
			t.Errorf("replaced %v", d.replaced)
		}
		if _, losses := accept(was, now, nil); len(losses) != 1 || !strings.Contains(losses[0], "replaced") {
			t.Errorf("losses %v", losses)
		}
	})

	t.Run("an address named to forget is dropped from the guarded list", func(t *testing.T) {
		now := golden(renamed(t, base, stack, "PersonaTable", "Personas"))
		accepted, losses := accept(was, now, map[string]bool{table: true})
		if len(losses) > 0 || slices.Contains(accepted.Stateful, table) {
			t.Errorf("losses %v, stateful %v", losses, accepted.Stateful)
		}
	})

	t.Run("an address named to forget but replaced in place stays guarded", func(t *testing.T) {
		doc := renamed(t, base, stack, "Nothing", "Nothing")
		doc["resource"].(map[string]any)["aws_dynamodb_table"].(map[string]any)["PersonaTable_table_B23944E2"].(map[string]any)["name"] = "persona-dev-people"
		accepted, losses := accept(was, golden(doc), map[string]bool{table: true})
		if len(losses) > 0 || !slices.Contains(accepted.Stateful, table) {
			t.Errorf("losses %v, stateful %v", losses, accepted.Stateful)
		}
	})

	t.Run("an API renamed with its route functions is one suggested move", func(t *testing.T) {
		now := golden(renamed(t, base, stack, "BackendApi", "Api"))
		if got := strings.Join(suggestMoves(diffGolden(was, now), was, now), "\n"); got != `stack.Moved("BackendApi", "Api")` {
			t.Errorf("suggested:\n%s", got)
		}
	})

	t.Run("a resource type without an identity entry is refused", func(t *testing.T) {
		doc := renamed(t, base, stack, "Nothing", "Nothing")
		doc["resource"].(map[string]any)["aws_route53_record"] = map[string]any{"Site_record_12345678": map[string]any{"name": "www"}}
		if _, err := goldenOf(stack, doc); err == nil || !strings.Contains(err.Error(), "aws_route53_record") || !strings.Contains(err.Error(), "identity_test.go") {
			t.Errorf("error = %v", err)
		}
	})
}
