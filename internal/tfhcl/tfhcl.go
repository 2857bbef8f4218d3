// Package tfhcl turns the HCL that CDKTF renders for a stack into a file Terraform
// reads, and proves it describes what the stack's Terraform JSON describes.
//
// CDKTF 0.20.11 (and 0.21) writes a string that holds a reference, such as an IAM
// policy naming "${aws_sqs_queue.q.arn}", without escaping its quotes
// (hashicorp/terraform-cdk#3911), which is not valid HCL. Repair re-quotes those
// strings; Compare checks every block and value against the JSON, so a rendering
// that still differs is an error, never a file.
package tfhcl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// Formatter names what formatted a file Write wrote.
type Formatter string

const (
	TerraformFmt Formatter = "terraform fmt"
	// HCLWrite is the formatter terraform fmt builds on, used when terraform is missing.
	HCLWrite Formatter = "hclwrite, as terraform was not found (make terraform installs it; terraform fmt also unwraps \"${x}\" into x)"
)

// Write repairs and formats CDKTF's rendering of a stack, checks it against the
// stack's Terraform JSON, and only then writes it to path. terraform is the binary
// that formats it; empty means hclwrite formats it.
func Write(path string, rendered, stackJSON []byte, terraform string) (Formatter, error) {
	withMoves, err := addMovedBlocks(Repair(rendered), stackJSON)
	if err != nil {
		return "", err
	}
	src, err := Format(withMoves)
	if err != nil {
		return "", err
	}
	formatter := HCLWrite
	if terraform != "" {
		cmd := exec.Command(terraform, "fmt", "-no-color", "-")
		cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
		cmd.Stdin = bytes.NewReader(src)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if src, err = cmd.Output(); err != nil {
			return "", fmt.Errorf("terraform fmt of %s: %v\n%s", path, err, stderr.Bytes())
		}
		formatter = TerraformFmt
	}
	diffs, err := Compare(stackJSON, src, path)
	if err != nil {
		return "", err
	}
	if len(diffs) > 0 {
		return "", fmt.Errorf("the HCL rendering of %s differs from its Terraform JSON, so it is not written (the JSON is complete and is what deploy uses):\n  %s", path, strings.Join(diffs, "\n  "))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, src, 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return formatter, nil
}

var address = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$`)

// addMovedBlocks writes the JSON's moved blocks into HCL that has none: CDKTF's
// HCL synthesis renders only the terraform block of a stack's overrides, and the
// constructs declare moves as one.
func addMovedBlocks(src, stackJSON []byte) ([]byte, error) {
	var doc struct {
		Moved []struct{ From, To string } `json:"moved"`
	}
	if err := json.Unmarshal(stackJSON, &doc); err != nil {
		return nil, fmt.Errorf("reading the stack's Terraform JSON: %w", err)
	}
	if len(doc.Moved) == 0 || regexp.MustCompile(`(?m)^\s*moved\s*\{`).Match(src) {
		return src, nil
	}
	var b bytes.Buffer
	b.Write(src)
	for _, m := range doc.Moved {
		if !address.MatchString(m.From) || !address.MatchString(m.To) {
			return nil, fmt.Errorf("moved block from %q to %q: both must be resource addresses", m.From, m.To)
		}
		fmt.Fprintf(&b, "\nmoved {\nfrom = %s\nto = %s\n}\n", m.From, m.To)
	}
	return b.Bytes(), nil
}

// Format checks that src is HCL and lays it out canonically.
func Format(src []byte) ([]byte, error) {
	if _, diags := hclsyntax.ParseConfig(src, "cdk.tf", hcl.InitialPos); diags.HasErrors() {
		return nil, fmt.Errorf("CDKTF rendered HCL that does not parse: %s", diags.Error())
	}
	return hclwrite.Format(src), nil
}

// attributeLine is one line of CDKTF's rendering holding a quoted string: an
// argument or map entry (key = "…") or a list element ("…" or "…",).
var attributeLine = regexp.MustCompile(`^(\s*(?:(?:[A-Za-z0-9_-]+|"[^"]*")\s*=\s*)?)"(.*)"(,?)\s*$`)

var (
	dependsOnStart = regexp.MustCompile(`^\s*depends_on\s*=\s*\[\s*$`)
	quotedAddress  = regexp.MustCompile(`^(\s*)"([A-Za-z0-9_.\-\[\]]+)"(,?)\s*$`)
)

// Repair re-quotes the strings CDKTF wrote unescaped: a string holding "${" is
// written verbatim between quotes, so the text between them is the string itself.
// It also writes depends_on entries as references, not the quoted addresses
// Terraform warns about.
func Repair(rendered []byte) []byte {
	lines := strings.Split(string(rendered), "\n")
	heredoc := ""
	dependsOn := false
	for i, line := range lines {
		if heredoc != "" {
			if strings.TrimSpace(line) == heredoc {
				heredoc = ""
			}
			continue
		}
		if at := strings.Index(line, "<<"); at >= 0 && !strings.Contains(line, `"`) {
			heredoc = strings.TrimPrefix(strings.TrimSpace(line[at+2:]), "-")
			continue
		}
		if dependsOnStart.MatchString(line) {
			dependsOn = true
			continue
		}
		if dependsOn {
			if m := quotedAddress.FindStringSubmatch(line); m != nil {
				lines[i] = m[1] + m[2] + m[3]
				continue
			}
			dependsOn = false
		}
		m := attributeLine.FindStringSubmatch(line)
		if m == nil || !strings.Contains(m[2], "${") {
			continue
		}
		lines[i] = m[1] + Quote(m[2]) + m[3]
	}
	return []byte(strings.Join(lines, "\n"))
}

// Quote writes a Terraform string template (as JSON configuration holds it) as an
// HCL quoted template: quotes, backslashes and control characters are escaped,
// while ${…} and %{…} sequences stay as they are.
func Quote(template string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(template); {
		rest := template[i:]
		switch {
		case strings.HasPrefix(rest, "$${"), strings.HasPrefix(rest, "%%{"):
			b.WriteString(rest[:3])
			i += 3
		case strings.HasPrefix(rest, "${"), strings.HasPrefix(rest, "%{"):
			end := i + 2 + sequenceEnd(rest[2:])
			b.WriteString(template[i:end])
			i = end
		default:
			switch c := template[i]; c {
			case '"':
				b.WriteString(`\"`)
			case '\\':
				b.WriteString(`\\`)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			default:
				b.WriteByte(c)
			}
			i++
		}
	}
	b.WriteByte('"')
	return b.String()
}

// sequenceEnd returns the length of an interpolation's body up to and including
// its closing brace, skipping braces inside quoted strings of the expression; the
// whole rest when it never closes.
func sequenceEnd(body string) int {
	depth, quoted := 1, false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '{':
			depth++
		case c == '}':
			if depth--; depth == 0 {
				return i + 1
			}
		}
	}
	return len(body)
}

// Compare lists where the HCL src describes something other than the Terraform
// JSON: a block or an address on one side only, or a different value. Strings
// are compared as templates, so "${aws_x.y.arn}" in JSON matches a bare
// aws_x.y.arn in HCL. An error means src is not HCL.
func Compare(stackJSON, src []byte, filename string) ([]string, error) {
	var want map[string]any
	if err := json.Unmarshal(stackJSON, &want); err != nil {
		return nil, fmt.Errorf("reading the stack's Terraform JSON: %w", err)
	}
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("%s is not valid HCL: %s", filename, diags.Error())
	}
	got := bodyValue(file.Body.(*hclsyntax.Body), src, "")
	var diffs []string
	compareValues(stripComments(want), got, "", &diffs)
	sort.Strings(diffs)
	return diffs, nil
}

// Addresses lists the resource addresses (type.name) an HCL file declares.
func Addresses(src []byte, filename string) ([]string, error) {
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("%s is not valid HCL: %s", filename, diags.Error())
	}
	var out []string
	for _, block := range file.Body.(*hclsyntax.Body).Blocks {
		if block.Type == "resource" && len(block.Labels) == 2 {
			out = append(out, block.Labels[0]+"."+block.Labels[1])
		}
	}
	sort.Strings(out)
	return out, nil
}

// stripComments drops CDKTF's "//" metadata, which has no HCL counterpart.
func stripComments(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			if k != "//" {
				out[k] = stripComments(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = stripComments(e)
		}
		return out
	}
	return v
}

// bodyValue is the JSON-shaped value of an HCL body: arguments by name, a block
// with labels under its type and labels, blocks of one type without labels as a list.
func bodyValue(body *hclsyntax.Body, src []byte, blockType string) map[string]any {
	out := map[string]any{}
	for name, attr := range body.Attributes {
		out[name] = exprValue(attr.Expr, src, blockType == "moved" || blockType == "import" || name == "depends_on")
	}
	for _, block := range body.Blocks {
		value := bodyValue(block.Body, src, block.Type)
		if len(block.Labels) == 0 && len(value) == 0 {
			continue // CDKTF writes an empty required_providers block where JSON has none
		}
		if len(block.Labels) == 0 {
			list, _ := out[block.Type].([]any)
			out[block.Type] = append(list, value)
			continue
		}
		parent, _ := out[block.Type].(map[string]any)
		if parent == nil {
			parent = map[string]any{}
			out[block.Type] = parent
		}
		for _, label := range block.Labels[:len(block.Labels)-1] {
			next, _ := parent[label].(map[string]any)
			if next == nil {
				next = map[string]any{}
				parent[label] = next
			}
			parent = next
		}
		parent[block.Labels[len(block.Labels)-1]] = value
	}
	return out
}

// exprValue is the JSON-shaped value of an expression. References and other
// expressions become the template "${…}" JSON configuration writes for them, or
// their bare text where Terraform takes an address (moved, import, depends_on).
func exprValue(expr hclsyntax.Expression, src []byte, addresses bool) any {
	text := func(e hclsyntax.Expression) string {
		r := e.Range()
		return string(src[r.Start.Byte:r.End.Byte])
	}
	switch e := expr.(type) {
	case *hclsyntax.LiteralValueExpr:
		return literal(e.Val)
	case *hclsyntax.TemplateExpr:
		var b strings.Builder
		for _, part := range e.Parts {
			if lit, ok := part.(*hclsyntax.LiteralValueExpr); ok && lit.Val.Type() == cty.String {
				b.WriteString(strings.ReplaceAll(strings.ReplaceAll(lit.Val.AsString(), "${", "$${"), "%{", "%%{"))
				continue
			}
			b.WriteString("${" + text(part) + "}")
		}
		return b.String()
	case *hclsyntax.TemplateWrapExpr:
		return "${" + text(e.Wrapped) + "}"
	case *hclsyntax.TupleConsExpr:
		out := make([]any, len(e.Exprs))
		for i, item := range e.Exprs {
			out[i] = exprValue(item, src, addresses)
		}
		return out
	case *hclsyntax.ObjectConsExpr:
		out := map[string]any{}
		for _, item := range e.Items {
			key := text(item.KeyExpr)
			if k, ok := exprValue(item.KeyExpr, src, false).(string); ok && !strings.HasPrefix(k, "${") {
				key = k
			}
			out[key] = exprValue(item.ValueExpr, src, addresses)
		}
		return out
	case *hclsyntax.ObjectConsKeyExpr:
		if name := hcl.ExprAsKeyword(e.Wrapped); name != "" {
			return name
		}
		return exprValue(e.Wrapped, src, addresses)
	}
	if addresses {
		return text(expr)
	}
	return "${" + text(expr) + "}"
}

func literal(v cty.Value) any {
	switch {
	case v.IsNull():
		return nil
	case v.Type() == cty.String:
		return v.AsString()
	case v.Type() == cty.Bool:
		return v.True()
	case v.Type() == cty.Number:
		f, _ := v.AsBigFloat().Float64()
		return f
	}
	return v.GoString()
}

// compareValues records where got differs from want. A block is an object or a
// list of one object on either side, as JSON configuration allows both.
func compareValues(want, got any, path string, diffs *[]string) {
	if list, ok := want.([]any); ok && len(list) == 1 {
		if _, isObject := got.(map[string]any); isObject {
			want = list[0]
		}
	}
	if w, ok := want.(map[string]any); ok {
		if list, ok := got.([]any); ok && len(list) == 1 {
			got = list[0]
		}
		g, ok := got.(map[string]any)
		if !ok {
			*diffs = append(*diffs, fmt.Sprintf("%s: JSON has an object, HCL has %s", where(path), describe(got)))
			return
		}
		for _, k := range unionKeys(w, g) {
			wv, inW := w[k]
			gv, inG := g[k]
			switch {
			case !inW:
				*diffs = append(*diffs, fmt.Sprintf("%s: only in HCL", join(path, k)))
			case !inG:
				*diffs = append(*diffs, fmt.Sprintf("%s: only in JSON", join(path, k)))
			default:
				compareValues(wv, gv, join(path, k), diffs)
			}
		}
		return
	}
	if w, ok := want.([]any); ok {
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			*diffs = append(*diffs, fmt.Sprintf("%s: JSON has %s, HCL has %s", where(path), describe(want), describe(got)))
			return
		}
		for i := range w {
			compareValues(w[i], g[i], fmt.Sprintf("%s[%d]", path, i), diffs)
		}
		return
	}
	if !reflect.DeepEqual(want, got) {
		*diffs = append(*diffs, fmt.Sprintf("%s: JSON has %s, HCL has %s", where(path), describe(want), describe(got)))
	}
}

func unionKeys(a, b map[string]any) []string {
	seen := map[string]bool{}
	for k := range a {
		seen[k] = true
	}
	for k := range b {
		seen[k] = true
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func where(path string) string {
	if path == "" {
		return "the file"
	}
	return path
}

func describe(v any) string {
	data, err := json.Marshal(v)
	if err != nil || len(data) > 200 {
		return fmt.Sprintf("a %T", v)
	}
	return string(bytes.TrimSpace(data))
}
