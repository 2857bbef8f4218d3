package terraform

import (
	"bytes"
	"regexp"
	"strings"
)

// Diagnostic is one error terraform reported, read from its human-readable output:
// the summary after "Error: ", the detail below it, and the resource it concerns.
type Diagnostic struct {
	// Summary is the text after "Error: "; the AWS provider puts its whole message
	// there ("creating IAM Role (name): operation error IAM: CreateRole, ...").
	Summary string
	// Detail is the text below the summary with terraform's line wrapping undone;
	// providers built on the plugin framework put the AWS error there.
	Detail string
	// Address is the resource instance the error concerns, from terraform's
	// "with ADDRESS," line ("aws_iam_role.api_role", `aws_s3_object.files["a.html"]`);
	// empty for an error that concerns no resource.
	Address string
}

// Text is the summary and the detail, as one line of text.
func (d Diagnostic) Text() string {
	return strings.TrimSpace(d.Summary + " " + d.Detail)
}

// Diagnostics a run keeps: enough for every resource of a stack to fail at once,
// and a bound on what a runaway output can take.
const (
	maxDiagnostics      = 200
	maxDiagnosticLength = 8 << 10
)

var (
	// terraform frames each diagnostic in a box when it writes colors: "╷", "│ " before
	// every line, "╵".
	boxPrefix = regexp.MustCompile(`^│ ?`)
	// "  with aws_iam_role.api_role," (terraform's appendSourceSnippets).
	withLine = regexp.MustCompile(`^  with (.+),$`)
	// "  on cdk.tf.json line 12, in resource.aws_iam_role.api_role:" starts the source
	// snippet, which runs to the next blank line.
	onLine = regexp.MustCompile(`^  on .+ line \d+`)
)

// diagnosticWriter reads terraform's error output as it is written and keeps each
// error diagnostic in it, however long the output: the tail an ExitError quotes
// may have lost the first errors of a failed apply.
type diagnosticWriter struct {
	partial []byte
	diags   []Diagnostic
	current *diagnosticBuilder
}

type diagnosticBuilder struct {
	Diagnostic
	detail     []string
	detailSize int
	inSnippet  bool
}

func (w *diagnosticWriter) Write(p []byte) (int, error) {
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	return len(p), nil
}

func (w *diagnosticWriter) line(raw string) {
	line := strings.TrimRight(colorCodes.ReplaceAllString(raw, ""), " \r")
	switch {
	case line == "╷":
		w.finish()
		return
	case line == "╵":
		w.finish()
		return
	}
	line = boxPrefix.ReplaceAllString(line, "")
	if summary, ok := strings.CutPrefix(line, "Error: "); ok {
		w.finish()
		w.current = &diagnosticBuilder{Diagnostic: Diagnostic{Summary: strings.TrimSpace(summary)}}
		return
	}
	if strings.HasPrefix(line, "Warning: ") {
		w.finish()
		return
	}
	d := w.current
	if d == nil {
		return
	}
	switch {
	case strings.TrimSpace(line) == "":
		d.inSnippet = false
	case d.inSnippet:
	case withLine.MatchString(line) && d.Address == "":
		d.Address = withLine.FindStringSubmatch(line)[1]
	case onLine.MatchString(line):
		d.inSnippet = true
	case d.detailSize < maxDiagnosticLength:
		d.detail = append(d.detail, strings.TrimSpace(line))
		d.detailSize += len(line)
	}
}

// finish keeps the diagnostic being read, if any.
func (w *diagnosticWriter) finish() {
	d := w.current
	w.current = nil
	if d == nil || len(w.diags) >= maxDiagnostics {
		return
	}
	// Terraform wraps a detail at spaces, so joining its lines with spaces restores it.
	d.Detail = strings.Join(d.detail, " ")
	if len(d.Summary) > maxDiagnosticLength {
		d.Summary = d.Summary[:maxDiagnosticLength]
	}
	w.diags = append(w.diags, d.Diagnostic)
}

// errors returns the diagnostics read, once the output has ended.
func (w *diagnosticWriter) errors() []Diagnostic {
	if len(w.partial) > 0 {
		w.line(string(w.partial))
		w.partial = nil
	}
	w.finish()
	return w.diags
}
