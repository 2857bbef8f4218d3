package persona

import "unicode"

// SpecRules are the rules of a Spec (Spec.Validate) as data, for a client that checks a
// form before sending it: the web app reads them as JSON (web/src/lib/persona-rules.json,
// which a test of package web keeps equal to these), so it never restates them.
type SpecRules struct {
	// Limits are the most characters (Unicode code points) of each text field, the
	// most tools, and the highest temperature.
	Limits struct {
		Name         int     `json:"name"`
		Description  int     `json:"description"`
		Instructions int     `json:"instructions"`
		Model        int     `json:"model"`
		Tools        int     `json:"tools"`
		Temperature  float64 `json:"temperature"`
	} `json:"limits"`
	// DefaultTemperature is what a persona without a temperature gets.
	DefaultTemperature float64 `json:"defaultTemperature"`
	// ModelPattern and ToolPattern are regular expressions a model and a tool match,
	// in the syntax Go's regexp and JavaScript's RegExp share.
	ModelPattern string `json:"modelPattern"`
	ToolPattern  string `json:"toolPattern"`
	// ForbiddenInLine and ForbiddenInText are the code points a one-line field (name)
	// and a multi-line one (description, instructions) may not hold, as inclusive
	// ranges [first, last].
	ForbiddenInLine []CodePoints `json:"forbiddenInLine"`
	ForbiddenInText []CodePoints `json:"forbiddenInText"`
	// Blank are the code points a required field may not consist of alone: white
	// space as Go's unicode.IsSpace says.
	Blank []CodePoints `json:"blank"`
}

// CodePoints is an inclusive range of Unicode code points, [first, last].
type CodePoints [2]rune

// Rules returns the rules Spec.Validate applies. The character ranges are read off
// the very predicates Validate uses, over every code point.
func Rules() SpecRules {
	var r SpecRules
	r.Limits.Name = MaxNameLen
	r.Limits.Description = MaxDescriptionLen
	r.Limits.Instructions = MaxInstructionsLen
	r.Limits.Model = MaxModelLen
	r.Limits.Tools = MaxTools
	r.Limits.Temperature = MaxTemperature
	r.DefaultTemperature = DefaultTemperature
	r.ModelPattern = modelPattern.String()
	r.ToolPattern = toolPattern.String()
	r.ForbiddenInLine = ranges(func(c rune) bool { return forbidden(c, false) })
	r.ForbiddenInText = ranges(func(c rune) bool { return forbidden(c, true) })
	r.Blank = ranges(unicode.IsSpace)
	return r
}

// ranges returns the code points for which in is true, as ranges.
func ranges(in func(rune) bool) []CodePoints {
	var out []CodePoints
	for c := rune(0); c <= unicode.MaxRune; c++ {
		if !in(c) {
			continue
		}
		if n := len(out); n > 0 && out[n-1][1] == c-1 {
			out[n-1][1] = c
		} else {
			out = append(out, CodePoints{c, c})
		}
	}
	return out
}
