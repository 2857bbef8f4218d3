package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestSynthLeavesNothingInTheTemporaryFolder(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("synth runs the CDKTF library in Node.js: install Node.js 20")
	}
	work := t.TempDir()
	bin := filepath.Join(work, "persona")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the command: %v\n%s", err, out)
	}
	tmp := filepath.Join(work, "tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	synth := exec.Command(bin, "synth")
	synth.Env = append(os.Environ(),
		"TMPDIR="+tmp, "STAGE=dev", "CDKTF_OUTDIR="+filepath.Join(work, "out"),
		"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20")
	out, err := synth.CombinedOutput()
	if err != nil {
		t.Fatalf("synth: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "exited abnormally") {
		t.Errorf("closing the jsii runtime reported an error:\n%s", out)
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		// The web build's cross-process lock is one file per site, kept on purpose:
		// removing a flock file races with the next process that opens it.
		if ok, _ := filepath.Match("site-build-*.lock", e.Name()); ok {
			continue
		}
		t.Errorf("synth left %s in the temporary folder", e.Name())
	}
}
