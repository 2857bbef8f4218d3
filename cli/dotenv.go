package cli

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/joho/godotenv"
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

// parseDotenv parses a .env file with godotenv and says on which line each statement starts.
//
// godotenv reports errors without line numbers, and its messages quote the file's text
// (secret values), so the file is also parsed statement by statement to find where each
// starts: a statement is the shortest run of lines from its first line that parses on its own.
// Values come from parsing the whole file at once, so that $NAME references to earlier
// statements expand as godotenv defines.
func parseDotenv(data []byte) ([]envEntry, []lineError) {
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	lines := strings.SplitAfter(text, "\n")
	var entries []envEntry
	firstLine := map[string]int{}
	var problems []lineError
	for start := 0; start < len(lines); {
		names, end, err := statementAt(lines, start)
		if err != nil {
			// Statements after a malformed one cannot be told apart reliably.
			return nil, append(problems, lineError{line: start + 1, msg: describe(err)})
		}
		for _, name := range names {
			if name == "" {
				problems = append(problems, lineError{line: start + 1, msg: "expected NAME=value"})
				continue
			}
			if first, ok := firstLine[name]; ok {
				problems = append(problems, lineError{line: start + 1, msg: fmt.Sprintf("%s is already set on line %d", name, first)})
				continue
			}
			firstLine[name] = start + 1
			entries = append(entries, envEntry{name: name, line: start + 1})
		}
		start = end
	}
	if len(problems) > 0 {
		return nil, problems
	}
	values, err := godotenv.Unmarshal(text)
	if err != nil {
		return nil, []lineError{{line: 1, msg: describe(err)}}
	}
	for i := range entries {
		entries[i].value = values[entries[i].name]
	}
	return entries, nil
}

// statementAt parses the statement starting at lines[start] and returns the names it sets
// (none for blank and comment lines) and the index of the line after it.
func statementAt(lines []string, start int) (names []string, end int, err error) {
	var chunk strings.Builder
	for end = start; end < len(lines); end++ {
		chunk.WriteString(lines[end])
		values, perr := godotenv.Unmarshal(chunk.String())
		if perr == nil {
			return slices.Sorted(maps.Keys(values)), end + 1, nil
		}
		if err == nil {
			err = perr
		}
	}
	return nil, 0, err
}

// describe turns a godotenv error into a message that does not quote the file.
func describe(err error) string {
	switch msg := err.Error(); {
	case strings.HasPrefix(msg, "unterminated quoted value"):
		return "a quoted value is not closed"
	case strings.HasPrefix(msg, "unexpected character"):
		return "expected NAME=value (a name is letters, digits and _)"
	default:
		return "expected NAME=value"
	}
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
