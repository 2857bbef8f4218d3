package persona

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// inRanges reports whether c is in one of ranges.
func inRanges(ranges []CodePoints, c rune) bool {
	for _, r := range ranges {
		if r[0] <= c && c <= r[1] {
			return true
		}
	}
	return false
}

func TestTheRulesNameTheCharactersValidateRefusesAndNoOthers(t *testing.T) {
	rules := Rules()
	for _, tc := range []struct {
		field  string
		ranges []CodePoints
		spec   func(text string) Spec
	}{
		{"name", rules.ForbiddenInLine, func(s string) Spec { return Spec{Name: s, Instructions: "Be brief."} }},
		{"instructions", rules.ForbiddenInText, func(s string) Spec { return Spec{Name: "Ada", Instructions: s} }},
	} {
		for _, r := range tc.ranges {
			for _, c := range []rune{r[0] - 1, r[0], r[1], r[1] + 1} {
				if c < 0 {
					continue
				}
				err := tc.spec(fmt.Sprintf("a%cb", c)).Validate()
				if refused := err != nil && strings.Contains(err.Error(), fmt.Sprintf("U+%04X", c)); refused != inRanges(tc.ranges, c) {
					t.Errorf("%s with U+%04X: Validate = %v, but the rules say forbidden = %v", tc.field, c, err, inRanges(tc.ranges, c))
				}
			}
		}
	}
	blank := ""
	for _, r := range rules.Blank {
		if !inRanges(rules.ForbiddenInText, r[0]) {
			blank += string(r[0])
		}
	}
	if err := (Spec{Name: "Ada", Instructions: blank}).Validate(); err == nil || !strings.Contains(err.Error(), "white space") {
		t.Errorf("instructions of the rules' blanks: Validate = %v, want them refused as white space", err)
	}
}

func TestTheRulesPatternsAndLimitsAreValidates(t *testing.T) {
	rules := Rules()
	model, tool := regexp.MustCompile(rules.ModelPattern), regexp.MustCompile(rules.ToolPattern)
	for _, m := range []string{"gpt-x", "anthropic/claude:3.5", "-x", "gpt 4"} {
		if model.MatchString(m) != validModel(m) {
			t.Errorf("model %q: the rules' pattern says %v, Validate %v", m, model.MatchString(m), validModel(m))
		}
	}
	for _, name := range []string{"search", "web_fetch", "Search", "1tool", strings.Repeat("a", 65)} {
		err := (Spec{Name: "Ada", Instructions: "x", Tools: []string{name}}).Validate()
		if tool.MatchString(name) != (err == nil) {
			t.Errorf("tool %q: the rules' pattern says %v, Validate %v", name, tool.MatchString(name), err)
		}
	}
	long := Spec{Name: strings.Repeat("n", rules.Limits.Name+1), Instructions: "x"}
	if err := long.Validate(); err == nil {
		t.Errorf("a name one over the rules' limit of %d passed Validate", rules.Limits.Name)
	}
}
