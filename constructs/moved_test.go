package constructs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/personabackend/app/build"
	"github.com/personabackend/app/cli/terraform"
	"github.com/personabackend/app/internal/localaws/localawstest"
	"github.com/personabackend/app/topology"
)

// dataStack is a synthesized stack of terraform_data resources.
type dataStack struct {
	dir    string
	hclDir string // the stack as HCL, when asked for
	doc    map[string]any
}

// synthDataStack synthesizes a stack holding only what declare adds, with no AWS
// provider (which cannot be installed here) and its local state in statePath:
// terraform applies terraform_data resources for real without any download.
// CDKTF's terraform_data binding runs `terraform version` at synth, so it needs
// terraform on the PATH.
func synthDataStack(t *testing.T, statePath string, declare func(*Stack) error, options ...func(*AppProps)) (dataStack, error) {
	t.Helper()
	if _, err := exec.LookPath("terraform"); err != nil {
		localawstest.SkipOrFail(t, fmt.Errorf("CDKTF's terraform_data binding runs terraform version at synth, and terraform is not on the PATH (make terraform installs it in .tools/bin): %w", err))
	}
	props := AppProps{Name: "moves", Outdir: t.TempDir(), Region: "eu-west-1"}
	for _, option := range options {
		option(&props)
	}
	app, err := NewApp(context.Background(), props)
	if err != nil {
		t.Fatal(err)
	}
	stage, _ := LookupStage("dev")
	tf := cdktf.NewTerraformStack(app.cdkApp(), jsii.String("moves-dev"))
	cdktf.NewLocalBackend(tf, &cdktf.LocalBackendConfig{Path: jsii.String(statePath)})
	stack := &Stack{app: app, stack: tf, stage: stage, topo: &topology.Stack{App: "moves", Stage: "dev"}}
	app.stacks = append(app.stacks, stack)
	if err := app.Declare(func() error { return declare(stack) }); err != nil {
		return dataStack{}, err
	}
	result, err := app.Synth()
	if err != nil {
		return dataStack{}, err
	}
	dir := result.Stacks[0].Dir
	hclDir := ""
	if result.Stacks[0].HCL != "" {
		hclDir = filepath.Dir(result.Stacks[0].HCL)
	}
	data, err := os.ReadFile(filepath.Join(dir, "cdk.tf.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return dataStack{dir: dir, hclDir: hclDir, doc: doc}, nil
}

// notes declares, under the construct id root: a resource directly under it, one
// nested deeper, one in a construct whose id derives from root (as a queue's worker
// does), and, outside it, one that depends on the first.
func notes(root string, moved ...string) func(*Stack) error {
	return func(s *Stack) error {
		input := func(v string) *cdktf.DataConfig {
			return &cdktf.DataConfig{Input: &map[string]any{"note": v}}
		}
		scope := s.scope(root)
		main := cdktf.NewDataResource(scope, jsii.String("data"), input("a"))
		cdktf.NewDataResource(constructs.NewConstruct(scope, jsii.String("inner")), jsii.String("data"), input("b"))
		cdktf.NewDataResource(s.scope(s.derive(root, "Worker")), jsii.String("data"), input("c"))
		cdktf.NewDataResource(s.stack, jsii.String("Other"), &cdktf.DataConfig{
			Input:     &map[string]any{"about": *main.Id()},
			DependsOn: &[]cdktf.ITerraformDependable{main},
		})
		if len(moved) == 2 {
			return s.Moved(moved[0], moved[1])
		}
		return nil
	}
}

// addressByPath maps each resource's construct path below the stack to its address.
func (d dataStack) addressByPath(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for typ, byName := range d.doc["resource"].(map[string]any) {
		for name, r := range byName.(map[string]any) {
			path := r.(map[string]any)["//"].(map[string]any)["metadata"].(map[string]any)["path"].(string)
			out[strings.SplitN(path, "/", 2)[1]] = typ + "." + name
		}
	}
	return out
}

func findTerraform(t *testing.T) string {
	t.Helper()
	root, err := build.ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := terraform.Find(root)
	if err != nil {
		localawstest.SkipOrFail(t, err)
	}
	return bin
}

// runTerraform runs terraform in dir and returns its standard output.
func runTerraform(t *testing.T, bin, dir string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-chdir=" + dir}, args...)...)
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_INPUT=0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("terraform %s in %s: %v\n%s\n%s", strings.Join(args, " "), dir, err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes()
}

type plannedChange struct {
	Actions         []string
	PreviousAddress string
}

// plan runs terraform plan on dir and returns each resource's planned change by address.
func plan(t *testing.T, bin, dir string) map[string]plannedChange {
	t.Helper()
	runTerraform(t, bin, dir, "init", "-input=false", "-no-color")
	runTerraform(t, bin, dir, "plan", "-input=false", "-no-color", "-out=tfplan")
	var shown struct {
		ResourceChanges []struct {
			Address         string `json:"address"`
			PreviousAddress string `json:"previous_address"`
			Change          struct {
				Actions []string `json:"actions"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	if err := json.Unmarshal(runTerraform(t, bin, dir, "show", "-json", "tfplan"), &shown); err != nil {
		t.Fatalf("decoding terraform show -json: %v", err)
	}
	changes := map[string]plannedChange{}
	for _, rc := range shown.ResourceChanges {
		changes[rc.Address] = plannedChange{Actions: rc.Change.Actions, PreviousAddress: rc.PreviousAddress}
	}
	return changes
}

func TestARenamedConstructMovesItsResourcesInTerraformInsteadOfReplacingThem(t *testing.T) {
	bin := findTerraform(t)
	state := filepath.Join(t.TempDir(), "moves.tfstate")
	before, err := synthDataStack(t, state, notes("Notes"))
	if err != nil {
		t.Fatal(err)
	}
	runTerraform(t, bin, before.dir, "init", "-input=false", "-no-color")
	runTerraform(t, bin, before.dir, "apply", "-input=false", "-no-color", "-auto-approve")
	old := before.addressByPath(t)

	renamed, err := synthDataStack(t, state, notes("Journal", "Notes", "Journal"))
	if err != nil {
		t.Fatal(err)
	}
	now := renamed.addressByPath(t)
	changes := plan(t, bin, renamed.dir)
	wantPrevious := map[string]string{
		now["Journal/data"]:       old["Notes/data"],
		now["Journal/inner/data"]: old["Notes/inner/data"],
		now["JournalWorker/data"]: old["NotesWorker/data"],
		now["Other"]:              "",
	}
	if len(changes) != len(wantPrevious) {
		t.Errorf("plan changes %d resources, want %d: %+v", len(changes), len(wantPrevious), changes)
	}
	for address, previous := range wantPrevious {
		change, ok := changes[address]
		if !ok {
			t.Errorf("the plan does not mention %s", address)
			continue
		}
		if strings.Join(change.Actions, ",") != "no-op" || change.PreviousAddress != previous {
			t.Errorf("%s: actions %v, previous address %q; want no-op, moved from %q", address, change.Actions, change.PreviousAddress, previous)
		}
	}

	// The same rename without Moved destroys and creates: the check above can fail.
	unmoved, err := synthDataStack(t, state, notes("Journal"))
	if err != nil {
		t.Fatal(err)
	}
	unmovedChanges := plan(t, bin, unmoved.dir)
	for path, address := range unmoved.addressByPath(t) {
		if path == "Other" {
			continue
		}
		if got := strings.Join(unmovedChanges[address].Actions, ","); got != "create" {
			t.Errorf("without Moved, %s (%s) is planned as %q, want create", address, path, got)
		}
	}
}

func TestMovedWritesTerraformsMovedBlocksIntoTheJSON(t *testing.T) {
	state := filepath.Join(t.TempDir(), "moves.tfstate")
	before, err := synthDataStack(t, state, notes("Notes"))
	if err != nil {
		t.Fatal(err)
	}
	after, err := synthDataStack(t, state, notes("Journal", "Notes", "Journal"))
	if err != nil {
		t.Fatal(err)
	}
	old, now := before.addressByPath(t), after.addressByPath(t)
	var got []string
	for _, m := range after.doc["moved"].([]any) {
		block := m.(map[string]any)
		if len(block) != 2 {
			t.Errorf("moved block %v: want exactly from and to", block)
		}
		got = append(got, block["from"].(string)+" -> "+block["to"].(string))
	}
	want := []string{
		old["Notes/data"] + " -> " + now["Journal/data"],
		old["Notes/inner/data"] + " -> " + now["Journal/inner/data"],
		old["NotesWorker/data"] + " -> " + now["JournalWorker/data"],
	}
	if strings.Join(sorted(got), "\n") != strings.Join(sorted(want), "\n") {
		t.Errorf("moved blocks:\n%s\nwant:\n%s", strings.Join(sorted(got), "\n"), strings.Join(sorted(want), "\n"))
	}
}

func TestARouteFunctionMovesWithItsRenamedApi(t *testing.T) {
	app, err := NewApp(context.Background(), AppProps{Name: "shop", Outdir: t.TempDir(), Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	stage, _ := LookupStage("dev")
	stack, err := app.NewStack(stage)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Declare(func() error {
		api, err := NewBackendApi(stack, "Storefront", BackendApiProps{Name: "api"})
		if err != nil {
			return err
		}
		if _, err := api.Route("GET /items", FunctionProps{Package: "./constructs/testdata/echo", Name: "items"}, Public()); err != nil {
			return err
		}
		return stack.Moved("Api", "Storefront")
	}); err != nil {
		t.Fatal(err)
	}
	result, err := app.Synth()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(result.Stacks[0].Dir, "cdk.tf.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resource map[string]map[string]json.RawMessage `json:"resource"`
		Moved    []struct{ From, To string }           `json:"moved"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	movedTo := map[string]string{}
	for _, m := range doc.Moved {
		movedTo[m.To] = m.From
	}
	count := 0
	for typ, byName := range doc.Resource {
		for name := range byName {
			address := typ + "." + name
			from, ok := movedTo[address]
			if !ok {
				t.Errorf("%s has no moved block", address)
				continue
			}
			count++
			fromType, fromName, _ := strings.Cut(from, ".")
			if fromType != typ || strings.TrimPrefix(humanPart(fromName), "Api") != strings.TrimPrefix(humanPart(name), "Storefront") {
				t.Errorf("%s moved from %s, want the same resource of the old construct Api", address, from)
			}
		}
	}
	if count < 8 {
		t.Errorf("only %d resources moved; the API, its stage, log group, route and the route's function should", count)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// humanPart is a CDKTF resource name without its hash suffix.
func humanPart(name string) string {
	return name[:strings.LastIndex(name, "_")]
}

func TestMovedRefusesWhatCannotMove(t *testing.T) {
	state := filepath.Join(t.TempDir(), "moves.tfstate")
	for _, tc := range []struct {
		name    string
		declare func(*Stack) error
		want    string
	}{
		{"an empty path", func(s *Stack) error { return s.Moved("", "Notes") }, "a construct path is required"},
		{"a path with an empty part", func(s *Stack) error { return s.Moved("Old/", "Notes") }, "has an empty part"},
		{"the same path twice", func(s *Stack) error { return s.Moved("Notes", "Notes") }, "the paths are the same"},
		{"two moves to one construct", func(s *Stack) error {
			if err := s.Moved("A", "Notes"); err != nil {
				return err
			}
			return s.Moved("B", "Notes")
		}, "can be moved from one address only"},
		{"a construct that does not exist", notes("Notes", "Old", "Missing"), `the stack has no construct "Missing"`},
		{"a resource moved by two declarations", func(s *Stack) error {
			if err := notes("Notes", "Old", "Notes")(s); err != nil {
				return err
			}
			return s.Moved("Older/inner", "Notes/inner")
		}, "already moved by another declaration"},
		{"an old construct that still exists", func(s *Stack) error {
			if err := notes("Notes")(s); err != nil {
				return err
			}
			cdktf.NewDataResource(s.scope("Old"), jsii.String("data"), &cdktf.DataConfig{})
			return s.Moved("Old", "Notes")
		}, `a construct "Old" still exists`},
		{"a construct without resources", func(s *Stack) error {
			s.scope("Empty")
			return s.Moved("Old", "Empty")
		}, "holds no Terraform resource"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := synthDataStack(t, state, tc.declare)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one saying %q", err, tc.want)
			}
		})
	}
}
