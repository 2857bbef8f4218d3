package constructs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/personabackend/app/internal/tfhcl"
)

// writeHCL writes the stack as HCL to <Outdir>/hcl/<stack>/cdk.tf: rendered by
// CDKTF's own HCL synthesis (what AppConfig.HclOutput runs, which would write it
// instead of the JSON), repaired where CDKTF leaves quotes unescaped, formatted, and
// written only when it describes exactly what the JSON in jsonDir describes.
func (s *Stack) writeHCL(jsonDir string) (path, formatter string, err error) {
	var rendered map[string]any
	if err := catchJSII(func() { rendered = *s.stack.ToHclTerraform() }); err != nil {
		return "", "", fmt.Errorf("rendering %s as HCL: %w", s.Name(), err)
	}
	hcl, ok := rendered["hcl"].(string)
	if !ok {
		return "", "", fmt.Errorf("rendering %s as HCL: CDKTF returned no HCL", s.Name())
	}
	stackJSON, err := os.ReadFile(filepath.Join(jsonDir, "cdk.tf.json"))
	if err != nil {
		return "", "", fmt.Errorf("reading the synthesized %s: %w", s.Name(), err)
	}
	// A sibling of the JSON's folder at the same depth: the relative state path
	// and asset paths in the stack resolve to the same files from either.
	dir := filepath.Join(s.app.outdir, "hcl", s.Name())
	path = filepath.Join(dir, "cdk.tf")
	used, err := tfhcl.Write(path, []byte(hcl), stackJSON, s.app.terraform)
	if err != nil {
		return "", "", fmt.Errorf("writing %s as HCL: %w", s.Name(), err)
	}
	assets := filepath.Join(dir, "assets")
	if err := os.Remove(assets); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", "", fmt.Errorf("replacing %s: %w", assets, err)
	}
	if _, err := os.Stat(filepath.Join(jsonDir, "assets")); err == nil {
		if err := os.Symlink(filepath.Join("..", "..", "stacks", s.Name(), "assets"), assets); err != nil {
			return "", "", fmt.Errorf("linking the function zips beside %s: %w", path, err)
		}
	}
	return path, string(used), nil
}
