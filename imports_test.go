package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/personabackend/app/build"
)

// cdktfModules are the CDKTF and jsii modules. Only constructs/ imports them, so
// leaving CDKTF (for CDK Terrain, or plain Terraform) touches constructs/ alone.
var cdktfModules = []string{
	"github.com/hashicorp/terraform-cdk-go",
	"github.com/aws/jsii-runtime-go",
	"github.com/aws/constructs-go",
	"github.com/cdktf/",
}

// allowedCDKTFImporters may import CDKTF outside constructs/: bench/floor measures
// a bare CDKTF synth with none of our code, the floor our synth time is judged against.
var allowedCDKTFImporters = map[string]bool{
	"github.com/personabackend/app/bench/floor": true,
}

func TestOnlyConstructsImportsCDKTFOrJsii(t *testing.T) {
	root, err := build.ModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,TestImports,XTestImports", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	const constructsPkg = "github.com/personabackend/app/constructs"
	listed := 0
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var pkg struct {
			ImportPath                         string
			Imports, TestImports, XTestImports []string
		}
		if err := dec.Decode(&pkg); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list: %v", err)
		}
		listed++
		if pkg.ImportPath == constructsPkg || strings.HasPrefix(pkg.ImportPath, constructsPkg+"/") || allowedCDKTFImporters[pkg.ImportPath] {
			continue
		}
		var bad []string
		for _, imp := range append(append(pkg.Imports, pkg.TestImports...), pkg.XTestImports...) {
			for _, mod := range cdktfModules {
				if strings.HasPrefix(imp, mod) {
					bad = append(bad, imp)
				}
			}
		}
		if len(bad) > 0 {
			sort.Strings(bad)
			t.Errorf("%s imports %s: CDKTF and jsii stay inside constructs/; give constructs/ a plain-Go API for what the package needs", pkg.ImportPath, strings.Join(bad, ", "))
		}
	}
	if listed < 10 {
		t.Fatalf("go list found only %d packages; the check would prove nothing", listed)
	}
}

// The shipped binary links what it runs and nothing that only tests need.
func TestTheBinaryLinksNeitherTestingNorTheTestKit(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, forbidden := range []string{
		"testing",
		"net/http/httptest",
		"github.com/personabackend/app/internal/localaws/localawstest",
	} {
		if slices.Contains(deps, forbidden) {
			t.Errorf("the binary links %s", forbidden)
		}
	}
	if !slices.Contains(deps, "github.com/personabackend/app/dev") {
		t.Fatalf("go list -deps . does not list the dev package; is this the persona command?\n%s", out)
	}
}
