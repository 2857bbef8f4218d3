package constructs

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// withPolicy adds to notes what CDKTF renders as invalid HCL unless repaired: a
// JSON document holding a reference, and a lifecycle block.
func withPolicy(s *Stack) error {
	if err := notes("Journal", "Notes", "Journal")(s); err != nil {
		return err
	}
	target := cdktf.NewDataResource(s.scope("Target"), jsii.String("data"), &cdktf.DataConfig{Input: &map[string]any{"note": "t"}})
	cdktf.NewDataResource(s.scope("Policy"), jsii.String("data"), &cdktf.DataConfig{
		Input:     &map[string]any{"document": fmt.Sprintf(`{"Effect":"Allow","Resource":"%s"}`, *target.Id())},
		Lifecycle: &cdktf.TerraformResourceLifecycle{CreateBeforeDestroy: jsii.Bool(true)},
	})
	return nil
}

func TestTheHCLAndTheJSONAreTheSameStackToTerraform(t *testing.T) {
	bin := findTerraform(t)
	state := filepath.Join(t.TempDir(), "hcl.tfstate")
	stack, err := synthDataStack(t, state, withPolicy, func(p *AppProps) { p.HCL, p.Terraform = true, bin })
	if err != nil {
		t.Fatal(err)
	}
	if stack.hclDir == "" {
		t.Fatal("synth wrote no HCL")
	}
	if _, err := os.Stat(filepath.Join(stack.hclDir, "cdk.tf.json")); err == nil {
		t.Error("the HCL folder holds the JSON too: terraform would read both")
	}
	for _, dir := range []string{stack.dir, stack.hclDir} {
		runTerraform(t, bin, dir, "init", "-input=false", "-no-color")
		var validate struct {
			Valid       bool `json:"valid"`
			Diagnostics []struct {
				Severity, Summary string
			} `json:"diagnostics"`
		}
		if err := json.Unmarshal(runTerraform(t, bin, dir, "validate", "-json", "-no-color"), &validate); err != nil {
			t.Fatal(err)
		}
		if !validate.Valid || len(validate.Diagnostics) > 0 {
			t.Errorf("terraform validate in %s: valid %v, %+v", filepath.Base(filepath.Dir(dir)), validate.Valid, validate.Diagnostics)
		}
	}
	// Applied from the JSON, the HCL plans no change against the same state.
	runTerraform(t, bin, stack.dir, "apply", "-input=false", "-no-color", "-auto-approve")
	changes := plan(t, bin, stack.hclDir)
	if len(changes) < 5 {
		t.Errorf("the HCL plan covers only %d resources", len(changes))
	}
	for address, change := range changes {
		if strings.Join(change.Actions, ",") != "no-op" {
			t.Errorf("%s: the HCL plans %v after the JSON was applied", address, change.Actions)
		}
	}
}

func TestHCLThatCDKTFRendersWrongIsAnErrorNotAFile(t *testing.T) {
	// CDKTF renders a map holding the key "value" as that value alone (input = a).
	outdir := ""
	_, err := synthDataStack(t, filepath.Join(t.TempDir(), "s.tfstate"), func(s *Stack) error {
		cdktf.NewDataResource(s.scope("Odd"), jsii.String("data"), &cdktf.DataConfig{Input: &map[string]any{"value": "a"}})
		return nil
	}, func(p *AppProps) { p.HCL, outdir = true, p.Outdir })
	if err == nil || !strings.Contains(err.Error(), "differs from its Terraform JSON") || !strings.Contains(err.Error(), "Odd_data") {
		t.Fatalf("synth = %v, want an error naming the resource CDKTF rendered wrong", err)
	}
	if _, err := os.Stat(filepath.Join(outdir, "hcl", "moves-dev", "cdk.tf")); err == nil {
		t.Error("the wrong HCL was written")
	}
}

func TestCDKTFsOwnHCLSwitchIsRefusedWithTheWayThatWorks(t *testing.T) {
	t.Setenv("SYNTH_HCL_OUTPUT", "true")
	_, err := NewApp(context.Background(), AppProps{Name: "shop", Outdir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "go run . synth --hcl") {
		t.Errorf("NewApp with SYNTH_HCL_OUTPUT=true: %v", err)
	}
	if _, err := NewApp(context.Background(), AppProps{Name: "shop", Outdir: t.TempDir(), DeclareOnly: true}); err != nil {
		t.Errorf("an app that only declares is not affected: %v", err)
	}
}
