package iam

import (
	"fmt"
	"strconv"
	"strings"
)

// compiledCondition is a condition ready to evaluate.
type compiledCondition struct {
	key     string // lower case
	values  []string
	set     string // "", "forallvalues" or "foranyvalue"
	ifExist bool
	negated bool
	op      string // the base operator, e.g. "StringEquals"
	match   func(policy, value string) bool
}

// operators are the IAM condition operators the evaluator knows, without their
// negation, set qualifier or IfExists suffix. Null is handled apart. IAM evaluates
// ArnEquals as it does ArnLike: segment by segment, with * and ?.
var operators = map[string]func(policy, value string) bool{
	"StringEquals":           func(p, v string) bool { return p == v },
	"StringEqualsIgnoreCase": strings.EqualFold,
	"StringLike":             wildcardMatch,
	"ArnEquals":              MatchARN,
	"ArnLike":                MatchARN,
	"Bool":                   strings.EqualFold,
	"NumericEquals":          numeric(func(p, v float64) bool { return v == p }),
	"NumericLessThan":        numeric(func(p, v float64) bool { return v < p }),
	"NumericLessThanEquals":  numeric(func(p, v float64) bool { return v <= p }),
	"NumericGreaterThan":     numeric(func(p, v float64) bool { return v > p }),
	"NumericGreaterThanEquals": numeric(func(p, v float64) bool {
		return v >= p
	}),
}

// negations name each negated operator's positive form.
var negations = map[string]string{
	"StringNotEquals":           "StringEquals",
	"StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
	"StringNotLike":             "StringLike",
	"ArnNotEquals":              "ArnEquals",
	"ArnNotLike":                "ArnLike",
	"NumericNotEquals":          "NumericEquals",
}

func numeric(cmp func(policy, value float64) bool) func(string, string) bool {
	return func(p, v string) bool {
		pf, err1 := strconv.ParseFloat(p, 64)
		vf, err2 := strconv.ParseFloat(v, 64)
		return err1 == nil && err2 == nil && cmp(pf, vf)
	}
}

func compileCondition(c Condition) (compiledCondition, error) {
	out := compiledCondition{key: strings.ToLower(c.Key), values: c.Values}
	op := c.Operator
	if set, rest, ok := strings.Cut(op, ":"); ok {
		switch set {
		case "ForAllValues", "ForAnyValue":
			out.set = strings.ToLower(set)
		default:
			return out, fmt.Errorf("condition operator %q: unknown qualifier %q (use ForAllValues or ForAnyValue)", c.Operator, set)
		}
		op = rest
	}
	if base, ok := strings.CutSuffix(op, "IfExists"); ok {
		out.ifExist = true
		op = base
	}
	if op == "Null" {
		out.op = op
		return out, nil
	}
	if positive, ok := negations[op]; ok {
		out.negated = true
		op = positive
	}
	match, ok := operators[op]
	if !ok {
		return out, fmt.Errorf("condition operator %q is not one the local IAM evaluator knows; it knows String*, Arn*, Numeric*, Bool and Null", c.Operator)
	}
	out.op, out.match = op, match
	return out, nil
}

// holds evaluates the condition against a request's context, as IAM does: a key the
// request lacks fails ForAnyValue whatever its operator, fails a positive operator, and
// satisfies a negated one, IfExists or ForAllValues; a key holds when any of the
// policy's values matches.
func (c compiledCondition) holds(context map[string][]string) bool {
	values, present := context[c.key]
	present = present && len(values) > 0
	if c.op == "Null" {
		want := len(c.values) > 0 && strings.EqualFold(c.values[0], "true")
		return want != present
	}
	if !present {
		switch c.set {
		case "foranyvalue":
			// "If the key in the request is missing or resolves to an empty data set,
			// the condition returns false" (IAM's ForAnyValue), negated or not.
			return false
		case "forallvalues":
			return true
		}
		return c.ifExist || c.negated
	}
	anyPolicyMatches := func(v string) bool {
		for _, p := range c.values {
			if c.match(p, v) {
				return true
			}
		}
		return false
	}
	switch c.set {
	case "forallvalues":
		for _, v := range values {
			if anyPolicyMatches(v) == c.negated {
				return false
			}
		}
		return true
	default:
		matched := false
		for _, v := range values {
			if anyPolicyMatches(v) {
				matched = true
				break
			}
		}
		return matched != c.negated
	}
}
