package cli

import (
	"fmt"
	"maps"
	"strings"
	"testing"
)

// dotenvFile returns a .env file of n statements, every tenth a two-line quoted value.
func dotenvFile(n int) []byte {
	var b strings.Builder
	for i := range n {
		if i%10 == 0 {
			fmt.Fprintf(&b, "# group %d\nexport KEY_%d=\"first line\nsecond line\"\n", i/10, i)
			continue
		}
		fmt.Fprintf(&b, "KEY_%d='value-%d'\n", i, i)
	}
	return []byte(b.String())
}

func TestParseDotenvNumbersStatementsByTheirFirstLine(t *testing.T) {
	entries, problems := parseDotenv(dotenvFile(12))
	if len(problems) > 0 {
		t.Fatalf("problems: %+v", problems)
	}
	want := map[string]int{"KEY_0": 2, "KEY_1": 4, "KEY_9": 12, "KEY_10": 14, "KEY_11": 16}
	for _, e := range entries {
		if line, ok := want[e.name]; ok && line != e.line {
			t.Errorf("%s starts on line %d, want %d", e.name, e.line, line)
		}
	}
	if entries[0].value != "first line\nsecond line" {
		t.Errorf("KEY_0 = %q, want the two-line value", entries[0].value)
	}
}

func TestParseDotenvTakesValuesAsWritten(t *testing.T) {
	tests := []struct {
		name string
		file string
		want map[string]string
	}{
		{"a dollar sign is kept, not expanded", "A=ab$CD9xy\n", map[string]string{"A": "ab$CD9xy"}},
		{"a braced reference is kept", "X=one\nA=pre${X}post\nB=\"${X}\"\n", map[string]string{"X": "one", "A": "pre${X}post", "B": "${X}"}},
		{"single quotes keep everything between them", `A='a$b\n"c"#d'` + "\n", map[string]string{"A": `a$b\n"c"#d`}},
		{"double quotes know their escapes", `A="tab\there\nnew \"q\" back\\slash \$HOME"` + "\n", map[string]string{"A": "tab\there\nnew \"q\" back\\slash $HOME"}},
		{"an unquoted backslash is a backslash", `A=c:\temp\n` + "\n", map[string]string{"A": `c:\temp\n`}},
		{"an unquoted # after a space starts a comment", "A=abc # note\nB=ab#cd\nC= #x\n", map[string]string{"A": "abc", "B": "ab#cd", "C": "#x"}},
		{"quotes inside an unquoted value are kept", `A=it's "fine"` + "\n", map[string]string{"A": `it's "fine"`}},
		{"a comment may follow a closing quote", "A='v' # note\nB=\"w\"\t# note\n", map[string]string{"A": "v", "B": "w"}},
		{"spaces around the name and the unquoted value go, inside quotes they stay", "  export A = spaced  \nB=' kept '\n", map[string]string{"A": "spaced", "B": " kept "}},
		{"quoted values may span lines", "A='one\ntwo'\nB=\"three\nfour\"\n", map[string]string{"A": "one\ntwo", "B": "three\nfour"}},
		{"Windows line ends are line ends", "A=one\r\nB='two'\r\n", map[string]string{"A": "one", "B": "two"}},
		{"a last line without a newline counts", "A=one", map[string]string{"A": "one"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, problems := parseDotenv([]byte(tt.file))
			if len(problems) > 0 {
				t.Fatalf("problems: %+v", problems)
			}
			got := map[string]string{}
			for _, e := range entries {
				got[e.name] = e.value
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("values %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseDotenvRefusesWhatItWouldHaveToGuess(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []lineError
	}{
		{"an unknown escape in double quotes", "A=ok\nB=\"x\\qy\"\nC=fine\n", []lineError{{2, "a backslash in a double-quoted value must start an escape"}}},
		{"an unknown escape on a later line of the value", "B=\"x\nlater \\q\"\nC=\"\\w\"\n", []lineError{{2, "must start an escape"}, {3, "must start an escape"}}},
		{"text after a closing quote", "A='one' two\n", []lineError{{1, "unexpected text after the closing quote"}}},
		{"a quote never closed", "A=ok\nB='open\nC=more\n", []lineError{{2, "a quoted value is not closed"}}},
		{"a line without =", "A=ok\njust text\n", []lineError{{2, "expected NAME=value"}}},
		{"a name with a hyphen", "My-Key=v\n", []lineError{{1, "expected NAME=value"}}},
		{"a name starting with a digit", "1KEY=v\n", []lineError{{1, "expected NAME=value"}}},
		{"a name given twice", "A=1\n\nA=2\n", []lineError{{3, "A is already set on line 1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, problems := parseDotenv([]byte(tt.file))
			if entries != nil {
				t.Errorf("entries %+v alongside problems", entries)
			}
			if len(problems) != len(tt.want) {
				t.Fatalf("problems %+v, want %+v", problems, tt.want)
			}
			for i, want := range tt.want {
				if problems[i].line != want.line || !strings.Contains(problems[i].msg, want.msg) {
					t.Errorf("problem %+v, want line %d saying %q", problems[i], want.line, want.msg)
				}
			}
		})
	}
}

func BenchmarkParseDotenv(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		file := dotenvFile(n)
		b.Run(fmt.Sprintf("%d statements", n), func(b *testing.B) {
			for b.Loop() {
				if _, problems := parseDotenv(file); len(problems) > 0 {
					b.Fatal(problems)
				}
			}
		})
	}
	bad := append([]byte("BROKEN=\"never closed\n"), dotenvFile(1000)...)
	b.Run("unclosed quote before 1000 statements", func(b *testing.B) {
		for b.Loop() {
			if _, problems := parseDotenv(bad); len(problems) == 0 {
				b.Fatal("no problem found")
			}
		}
	})
}
