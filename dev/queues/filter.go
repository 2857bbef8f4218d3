package queues

import (
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
)

// The two scopes an SNS filter policy may apply to.
const (
	ScopeAttributes = "MessageAttributes"
	ScopeBody       = "MessageBody"
)

// filterPolicy is a parsed SNS subscription filter policy: it looks at the message
// attributes or, with the MessageBody scope, at the keys of a JSON body.
type filterPolicy struct {
	scope string
	root  *policyNode // nil matches every message
}

// policyNode is one level of a policy: every key must match, and each $or needs one
// of its alternatives to match.
type policyNode struct {
	leaves map[string][]condition // a key and its conditions, of which one must match
	nested map[string]*policyNode // a key whose value is an object (MessageBody scope)
	ors    [][]*policyNode
}

// condition is one entry of a key's condition list.
type condition struct {
	kind    string // "equals", "number", "anything-but", "prefix", "suffix", "exists", "numeric", "equals-ignore-case", "cidr"
	str     string
	num     float64
	exists  bool
	numeric []numericBound
	network *net.IPNet
	// but holds the excluded values of an anything-but condition.
	but []condition
}

type numericBound struct {
	op  string
	val float64
}

// parseFilterPolicy parses policy for scope ("" meaning message attributes); an
// empty policy matches every message.
func parseFilterPolicy(policy, scope string) (filterPolicy, error) {
	switch scope {
	case "":
		scope = ScopeAttributes
	case ScopeAttributes, ScopeBody:
	default:
		return filterPolicy{}, fmt.Errorf("filter policy scope %q: use %s or %s", scope, ScopeAttributes, ScopeBody)
	}
	fp := filterPolicy{scope: scope}
	if strings.TrimSpace(policy) == "" {
		return fp, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(policy), &raw); err != nil {
		return fp, fmt.Errorf("filter policy is not a JSON object: %w", err)
	}
	root, err := parseNode(raw, scope == ScopeBody)
	if err != nil {
		return fp, err
	}
	fp.root = root
	return fp, nil
}

func parseNode(raw map[string]json.RawMessage, nesting bool) (*policyNode, error) {
	n := &policyNode{leaves: map[string][]condition{}, nested: map[string]*policyNode{}}
	for _, key := range slices.Sorted(maps.Keys(raw)) {
		value := raw[key]
		if key == "$or" {
			alts, err := parseOr(value, nesting)
			if err != nil {
				return nil, err
			}
			n.ors = append(n.ors, alts)
			continue
		}
		var list []json.RawMessage
		if err := json.Unmarshal(value, &list); err == nil {
			if len(list) == 0 {
				return nil, fmt.Errorf("filter policy key %q: empty condition list", key)
			}
			for _, rc := range list {
				c, err := parseCondition(rc)
				if err != nil {
					return nil, fmt.Errorf("filter policy key %q: %w", key, err)
				}
				n.leaves[key] = append(n.leaves[key], c)
			}
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(value, &obj); err != nil {
			return nil, fmt.Errorf("filter policy key %q: conditions must be a JSON array", key)
		}
		if !nesting {
			return nil, fmt.Errorf("filter policy key %q: a nested policy needs the %s scope; message attributes have no nesting", key, ScopeBody)
		}
		child, err := parseNode(obj, nesting)
		if err != nil {
			return nil, fmt.Errorf("filter policy key %q: %w", key, err)
		}
		n.nested[key] = child
	}
	return n, nil
}

func parseOr(value json.RawMessage, nesting bool) ([]*policyNode, error) {
	var alts []map[string]json.RawMessage
	if err := json.Unmarshal(value, &alts); err != nil || len(alts) < 2 {
		return nil, fmt.Errorf("filter policy $or: give an array of at least two policies")
	}
	var out []*policyNode
	for _, alt := range alts {
		n, err := parseNode(alt, nesting)
		if err != nil {
			return nil, fmt.Errorf("filter policy $or: %w", err)
		}
		out = append(out, n)
	}
	return out, nil
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
	case "cidr":
		s, _ := arg.(string)
		_, network, err := net.ParseCIDR(s)
		if err != nil {
			return condition{}, fmt.Errorf("cidr needs an IP address block such as 10.0.0.0/24: %v", err)
		}
		return condition{kind: op, network: network}, nil
	case "numeric":
		return parseNumeric(arg)
	case "anything-but":
		return parseAnythingBut(arg)
	}
	return condition{}, fmt.Errorf("unsupported filter operator %q", op)
}

func parseNumeric(arg any) (condition, error) {
	list, ok := arg.([]any)
	if !ok || len(list) == 0 || len(list)%2 != 0 {
		return condition{}, fmt.Errorf("numeric needs operator and number pairs")
	}
	c := condition{kind: "numeric"}
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
}

// parseAnythingBut reads the values anything-but excludes: a value, a list of them,
// or an operator (prefix, suffix, equals-ignore-case with a value or a list).
func parseAnythingBut(arg any) (condition, error) {
	c := condition{kind: "anything-but"}
	var items []any
	switch a := arg.(type) {
	case []any:
		items = a
	case map[string]any:
		if list, ok := a["equals-ignore-case"].([]any); ok && len(a) == 1 {
			for _, it := range list {
				items = append(items, map[string]any{"equals-ignore-case": it})
			}
		} else {
			items = []any{a}
		}
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

// matches reports whether a message passes the policy.
func (fp filterPolicy) matches(body string, attrs map[string]Attribute) bool {
	if fp.root == nil {
		return true
	}
	if fp.scope == ScopeBody {
		var doc map[string]any
		if json.Unmarshal([]byte(body), &doc) != nil {
			return false
		}
		return fp.root.matchesObject(doc)
	}
	return fp.root.matchesAttributes(attrs)
}

func (n *policyNode) matchesAttributes(attrs map[string]Attribute) bool {
	for key, conds := range n.leaves {
		attr, present := attrs[key]
		if !anyCondition(conds, attrValues(attr), present) {
			return false
		}
	}
	for _, alts := range n.ors {
		matched := false
		for _, alt := range alts {
			if alt.matchesAttributes(attrs) {
				matched = true
				break
			}
		}
		if !matched {
			return false
		}
	}
	return true
}

func (n *policyNode) matchesObject(doc map[string]any) bool {
	for key, conds := range n.leaves {
		v, present := doc[key]
		if !anyCondition(conds, bodyValues(v), present) {
			return false
		}
	}
	for key, child := range n.nested {
		if !child.matchesNested(doc[key]) {
			return false
		}
	}
	for _, alts := range n.ors {
		matched := false
		for _, alt := range alts {
			if alt.matchesObject(doc) {
				matched = true
				break
			}
		}
		if !matched {
			return false
		}
	}
	return true
}

// matchesNested matches a body value against a nested policy: an object, or an array
// with an object element that matches.
func (n *policyNode) matchesNested(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		return n.matchesObject(v)
	case []any:
		for _, it := range v {
			if obj, ok := it.(map[string]any); ok && n.matchesObject(obj) {
				return true
			}
		}
	}
	return false
}

func anyCondition(conds []condition, values []attrValue, present bool) bool {
	for _, c := range conds {
		if c.matches(values, present) {
			return true
		}
	}
	return false
}

func (c condition) matches(values []attrValue, present bool) bool {
	if c.kind == "exists" {
		return present == c.exists
	}
	if !present {
		return false
	}
	if c.kind == "anything-but" {
		for _, v := range values {
			for _, b := range c.but {
				if b.matchesValue(v) {
					return false
				}
			}
		}
		return true
	}
	for _, v := range values {
		if c.matchesValue(v) {
			return true
		}
	}
	return false
}

// attrValue is one value of an attribute or body key as a filter policy sees it.
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
		return bodyValues(items)
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

// bodyValues lists the values of a JSON value: itself, or each element of an array.
func bodyValues(v any) []attrValue {
	switch v := v.(type) {
	case string:
		return []attrValue{{str: v}}
	case float64:
		return []attrValue{{num: v, isNumber: true}}
	case []any:
		var out []attrValue
		for _, it := range v {
			out = append(out, bodyValues(it)...)
		}
		return out
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
	case "cidr":
		ip := net.ParseIP(v.str)
		return !v.isNumber && ip != nil && c.network.Contains(ip)
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
