package cli

import (
	"fmt"
	"strings"
)

// envEntry is one NAME=value statement of a .env file.
type envEntry struct {
	name  string
	value string
	line  int // where the statement starts, from 1
}

// lineError is a problem on one line of a .env file. Its message never quotes the line,
// which may hold a secret.
type lineError struct {
	line int
	msg  string
}

// parseDotenv reads a .env file, taking every value as written: nothing is expanded
// ($NAME and ${NAME} are text like any other) and only a double-quoted value has escapes.
//
//	NAME=value          unquoted: to the end of the line, or to a # after a space
//	                    (a comment); spaces around it are dropped
//	NAME='value'        exactly what is between the quotes, over several lines if need be
//	NAME="value"        the same, with the escapes \n \r \t \" \\ and \$; any other
//	                    backslash is refused rather than guessed at
//	export NAME=value   the same as NAME=value
//	# comment           blank lines and comment lines are skipped
//
// Every problem is reported with its line; after an unclosed quote nothing more can
// be told apart, so parsing stops there.
func parseDotenv(data []byte) ([]envEntry, []lineError) {
	p := &dotenvParser{lines: strings.SplitAfter(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")}
	var entries []envEntry
	var problems []lineError
	firstLine := map[string]int{}
	for p.next < len(p.lines) {
		start := p.next + 1
		entry, ok, err := p.statement()
		if err != nil {
			problems = append(problems, *err)
			if p.stopped {
				break
			}
			continue
		}
		if !ok {
			continue
		}
		if first, seen := firstLine[entry.name]; seen {
			problems = append(problems, lineError{line: start, msg: fmt.Sprintf("%s is already set on line %d", entry.name, first)})
			continue
		}
		firstLine[entry.name] = start
		entries = append(entries, entry)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return entries, nil
}

type dotenvParser struct {
	lines   []string // each with its newline, but for the last
	next    int      // index of the next line to read
	stopped bool     // a problem left the rest of the file unreadable
}

// statement reads the statement starting at the next line: false for a blank or
// comment line.
func (p *dotenvParser) statement() (envEntry, bool, *lineError) {
	lineNo := p.next + 1
	// The line keeps its newline, which belongs to a quoted value that goes on.
	line := p.lines[p.next]
	p.next++
	rest := strings.TrimLeft(line, " \t")
	if strings.TrimSpace(rest) == "" || strings.HasPrefix(rest, "#") {
		return envEntry{}, false, nil
	}
	if after, ok := strings.CutPrefix(rest, "export"); ok && after != strings.TrimLeft(after, " \t") {
		rest = strings.TrimLeft(after, " \t")
	}
	name, value, ok := strings.Cut(rest, "=")
	name = strings.TrimRight(name, " \t")
	if !ok || !validEnvName(name) {
		return envEntry{}, false, &lineError{line: lineNo, msg: "expected NAME=value (a name is letters, digits and _, not starting with a digit)"}
	}
	value = strings.TrimLeft(value, " \t")
	entry := envEntry{name: name, line: lineNo}
	var err *lineError
	switch {
	case strings.HasPrefix(value, "'"):
		entry.value, err = p.quoted(lineNo, value[1:], '\'')
	case strings.HasPrefix(value, `"`):
		entry.value, err = p.quoted(lineNo, value[1:], '"')
	default:
		entry.value = unquoted(strings.TrimSuffix(value, "\n"))
	}
	if err != nil {
		return envEntry{}, false, err
	}
	return entry, true, nil
}

// unquoted is an unquoted value: up to a # that follows a space or tab, trimmed.
func unquoted(value string) string {
	for i := 1; i < len(value); i++ {
		if value[i] == '#' && (value[i-1] == ' ' || value[i-1] == '\t') {
			value = value[:i]
			break
		}
	}
	return strings.TrimRight(value, " \t")
}

// doubleQuoteEscapes are the escapes of a double-quoted value and what they stand for.
var doubleQuoteEscapes = map[byte]byte{'n': '\n', 'r': '\r', 't': '\t', '"': '"', '\\': '\\', '$': '$'}

// quoted reads a value that opened with quote on line startLine, from text (the rest of
// that line) on, through as many lines as it takes to close.
func (p *dotenvParser) quoted(startLine int, text string, quote byte) (string, *lineError) {
	var value strings.Builder
	lineNo := startLine
	for {
		for i := 0; i < len(text); i++ {
			c := text[i]
			switch {
			case c == quote:
				if tail := strings.TrimLeft(strings.TrimRight(text[i+1:], "\n"), " \t"); tail != "" && !strings.HasPrefix(tail, "#") {
					return "", &lineError{line: lineNo, msg: "unexpected text after the closing quote (a comment starts with #)"}
				}
				return value.String(), nil
			case c == '\\' && quote == '"':
				var escaped byte
				if i+1 < len(text) {
					escaped = doubleQuoteEscapes[text[i+1]]
				}
				if escaped == 0 {
					return "", p.skipQuoted(lineNo, text[i+1:], quote, `a backslash in a double-quoted value must start an escape (\n \r \t \" \\ \$): write \\ for a backslash, or put the value in single quotes, which keep it as written`)
				}
				value.WriteByte(escaped)
				i++
			default:
				value.WriteByte(c)
			}
		}
		if p.next == len(p.lines) {
			p.stopped = true
			return "", &lineError{line: startLine, msg: "a quoted value is not closed"}
		}
		text = p.lines[p.next]
		p.next++
		lineNo++
	}
}

// skipQuoted reports msg for line lineNo and moves past the rest of the quoted value
// (from text on), so that the statements after it are still checked.
func (p *dotenvParser) skipQuoted(lineNo int, text string, quote byte, msg string) *lineError {
	for {
		for i := 0; i < len(text); i++ {
			switch {
			case text[i] == '\\' && quote == '"':
				i++
			case text[i] == quote:
				return &lineError{line: lineNo, msg: msg}
			}
		}
		if p.next == len(p.lines) {
			p.stopped = true
			return &lineError{line: lineNo, msg: msg}
		}
		text = p.lines[p.next]
		p.next++
	}
}

func validEnvName(name string) bool {
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		return false
	}
	for _, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// loadError reports every problem in a .env file and that nothing was written.
func loadError(file string, problems []lineError) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s was not loaded, nothing was written:", file)
	for _, p := range problems {
		fmt.Fprintf(&b, "\n    line %d: %s", p.line, p.msg)
	}
	return fmt.Errorf("%s", b.String())
}
