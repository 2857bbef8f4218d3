package cli

import (
	"fmt"
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
