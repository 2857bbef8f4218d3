package queues

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// filterPolicy is a parsed SNS subscription filter policy (message-attribute scope):
// every key must match, and a key matches when any of its conditions does.
type filterPolicy map[string][]condition

// condition is one entry of a key's condition list.
type condition struct {
	kind    string // "equals", "number", "anything-but", "prefix", "suffix", "exists", "numeric", "equals-ignore-case"
	str     string
	num     float64
	exists  bool
	numeric []numericBound
	// but holds the excluded values of an anything-but condition.
	but []condition
}

type numericBound struct {
	op  string
	val float64
}

// parseFilterPolicy parses policy; an empty policy matches every message.
func parseFilterPolicy(policy string) (filterPolicy, error) {
	if strings.TrimSpace(policy) == "" {
		return nil, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(policy), &raw); err != nil {
		return nil, fmt.Errorf("filter policy is not a JSON object: %w", err)
	}
	fp := filterPolicy{}
	for key, rawConds := range raw {
		var list []json.RawMessage
		if err := json.Unmarshal(rawConds, &list); err != nil {
			return nil, fmt.Errorf("filter policy key %q: conditions must be a JSON array: %w", key, err)
		}
		if len(list) == 0 {
			return nil, fmt.Errorf("filter policy key %q: empty condition list", key)
		}
		for _, rc := range list {
			c, err := parseCondition(rc)
			if err != nil {
				return nil, fmt.Errorf("filter policy key %q: %w", key, err)
			}
			fp[key] = append(fp[key], c)
		}
	}
	return fp, nil
}

func parseCondition(raw json.RawMessage) (condition, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return condition{}, err
	}
	switch v := v.(type) {
	case string:
		return condition{kind: "equals", str: v}, nil
	case float64:
		return condition{kind: "number", num: v}, nil
	case map[string]any:
		if len(v) != 1 {
			return condition{}, fmt.Errorf("a condition object must have exactly one operator, got %d", len(v))
		}
		for op, arg := range v {
			return parseOperator(op, arg)
		}
	}
	return condition{}, fmt.Errorf("unsupported condition %s", raw)
}

func parseOperator(op string, arg any) (condition, error) {
	switch op {
	case "prefix", "suffix", "equals-ignore-case":
		s, ok := arg.(string)
		if !ok {
			return condition{}, fmt.Errorf("%s needs a string", op)
		}
		return condition{kind: op, str: s}, nil
	case "exists":
		b, ok := arg.(bool)
		if !ok {
			return condition{}, fmt.Errorf("exists needs true or false")
		}
		return condition{kind: op, exists: b}, nil
	case "numeric":
		list, ok := arg.([]any)
		if !ok || len(list) == 0 || len(list)%2 != 0 {
			return condition{}, fmt.Errorf("numeric needs operator and number pairs")
		}
		c := condition{kind: op}
		for i := 0; i < len(list); i += 2 {
			o, ok1 := list[i].(string)
			n, ok2 := list[i+1].(float64)
			if !ok1 || !ok2 {
				return condition{}, fmt.Errorf("numeric needs operator and number pairs")
			}
			switch o {
			case "=", "<", "<=", ">", ">=":
			default:
				return condition{}, fmt.Errorf("unknown numeric operator %q", o)
			}
			c.numeric = append(c.numeric, numericBound{op: o, val: n})
		}
		return c, nil
	case "anything-but":
		c := condition{kind: op}
		var items []any
		switch a := arg.(type) {
		case []any:
			items = a
		default:
			items = []any{a}
		}
		for _, it := range items {
			raw, _ := json.Marshal(it)
			inner, err := parseCondition(raw)
			if err != nil {
				return condition{}, fmt.Errorf("anything-but: %w", err)
			}
			switch inner.kind {
			case "equals", "number", "prefix", "suffix", "equals-ignore-case":
			default:
				return condition{}, fmt.Errorf("anything-but does not take %s", inner.kind)
			}
			c.but = append(c.but, inner)
		}
		return c, nil
	}
	return condition{}, fmt.Errorf("unsupported filter operator %q", op)
}

// matches reports whether a message with attrs passes the policy.
func (fp filterPolicy) matches(attrs map[string]Attribute) bool {
	for key, conds := range fp {
		attr, present := attrs[key]
		ok := false
		for _, c := range conds {
			if c.matches(attr, present) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func (c condition) matches(attr Attribute, present bool) bool {
	if c.kind == "exists" {
		return present == c.exists
	}
	if !present {
		return false
	}
	if c.kind == "anything-but" {
		for _, v := range attrValues(attr) {
			for _, b := range c.but {
				if b.matchesValue(v) {
					return false
				}
			}
		}
		return true
	}
	for _, v := range attrValues(attr) {
		if c.matchesValue(v) {
			return true
		}
	}
	return false
}

// attrValue is one value of an attribute as a filter policy sees it.
type attrValue struct {
	str      string
	num      float64
	isNumber bool
}

// attrValues lists the values of attr: one for String and Number,
// each element for String.Array; binary attributes never match.
func attrValues(attr Attribute) []attrValue {
	switch {
	case attr.DataType == "String.Array":
		var items []any
		if err := json.Unmarshal([]byte(attr.StringValue), &items); err != nil {
			return nil
		}
		var out []attrValue
		for _, it := range items {
			switch it := it.(type) {
			case string:
				out = append(out, attrValue{str: it})
			case float64:
				out = append(out, attrValue{num: it, isNumber: true})
			}
		}
		return out
	case strings.HasPrefix(attr.DataType, "Number"):
		n, err := strconv.ParseFloat(attr.StringValue, 64)
		if err != nil {
			return nil
		}
		return []attrValue{{num: n, isNumber: true}}
	case strings.HasPrefix(attr.DataType, "String"):
		return []attrValue{{str: attr.StringValue}}
	}
	return nil
}

func (c condition) matchesValue(v attrValue) bool {
	switch c.kind {
	case "equals":
		return !v.isNumber && v.str == c.str
	case "equals-ignore-case":
		return !v.isNumber && strings.EqualFold(v.str, c.str)
	case "prefix":
		return !v.isNumber && strings.HasPrefix(v.str, c.str)
	case "suffix":
		return !v.isNumber && strings.HasSuffix(v.str, c.str)
	case "number":
		return v.isNumber && v.num == c.num
	case "numeric":
		if !v.isNumber {
			return false
		}
		for _, b := range c.numeric {
			if !b.holds(v.num) {
				return false
			}
		}
		return true
	}
	return false
}

func (b numericBound) holds(n float64) bool {
	switch b.op {
	case "=":
		return n == b.val
	case "<":
		return n < b.val
	case "<=":
		return n <= b.val
	case ">":
		return n > b.val
	case ">=":
		return n >= b.val
	}
	return false
}
