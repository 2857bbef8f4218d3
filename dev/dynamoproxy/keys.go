package dynamoproxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// schema is what the proxy knows of a table: its key attributes and its indexes'.
type schema struct {
	table   []string
	indexes map[string][]string // index name to key attributes
}

// The messages DynamoDB answers for an empty string or binary key value.
const (
	emptyTableKey = "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: %s"
	emptyIndexKey = "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: %s, IndexKey: %s"
)

// checkKeys answers DynamoDB's message when a request puts an empty string or binary
// value in a key attribute of a table or index, or "" when it does not. What the
// proxy cannot tell (an unknown table) is left to dynalite.
func (p *Proxy) checkKeys(r *http.Request, op string, req *request) string {
	switch op {
	case "PutItem":
		return p.checkItem(r, req.TableName, req.Item)
	case "GetItem", "DeleteItem":
		return p.checkKey(r, req.TableName, req.Key)
	case "UpdateItem":
		if msg := p.checkKey(r, req.TableName, req.Key); msg != "" {
			return msg
		}
		return p.checkUpdate(r, req)
	case "Query":
		return p.checkKeyCondition(r, req)
	case "BatchGetItem":
		var tables batchGet
		json.Unmarshal(req.RequestItems, &tables)
		for _, t := range slices.Sorted(maps.Keys(tables)) {
			for _, k := range tables[t].Keys {
				if msg := p.checkKey(r, t, k); msg != "" {
					return msg
				}
			}
		}
	case "BatchWriteItem":
		var tables batchWrite
		json.Unmarshal(req.RequestItems, &tables)
		for _, t := range slices.Sorted(maps.Keys(tables)) {
			for _, w := range tables[t] {
				msg := ""
				switch {
				case w.PutRequest != nil:
					msg = p.checkItem(r, t, w.PutRequest.Item)
				case w.DeleteRequest != nil:
					msg = p.checkKey(r, t, w.DeleteRequest.Key)
				}
				if msg != "" {
					return msg
				}
			}
		}
	case "TransactWriteItems", "TransactGetItems":
		for _, it := range req.TransactItems {
			for _, part := range it.parts() {
				if msg := p.checkKeys(r, part.keysLike, part.req); msg != "" {
					return msg
				}
			}
		}
	}
	return ""
}

func (p *Proxy) checkItem(r *http.Request, table string, it item) string {
	s := p.schema(r, table)
	if s == nil {
		return ""
	}
	for _, k := range s.table {
		if v, ok := it[k]; ok && v.empty() {
			return fmt.Sprintf(emptyTableKey, k)
		}
	}
	for _, index := range slices.Sorted(maps.Keys(s.indexes)) {
		for _, k := range s.indexes[index] {
			if v, ok := it[k]; ok && v.empty() {
				return fmt.Sprintf(emptyIndexKey, index, k)
			}
		}
	}
	return ""
}

func (p *Proxy) checkKey(r *http.Request, table string, key item) string {
	for _, k := range slices.Sorted(maps.Keys(key)) {
		if key[k].empty() {
			return fmt.Sprintf(emptyTableKey, k)
		}
	}
	return ""
}

// checkUpdate finds an index key set to an empty value: "SET owner = :v" with :v empty,
// or an AttributeUpdates PUT of an empty value.
func (p *Proxy) checkUpdate(r *http.Request, req *request) string {
	s := p.schema(r, req.TableName)
	if s == nil {
		return ""
	}
	assigned := map[string]attributeValue{}
	for attr, u := range req.AttributeUpdates {
		if u.Value != nil && (u.Action == "" || strings.EqualFold(u.Action, "PUT")) {
			assigned[attr] = *u.Value
		}
	}
	for _, set := range assignments(req.UpdateExpression) {
		if v, ok := req.ExpressionAttributeValues[set.value]; ok {
			assigned[resolve(set.path, req.ExpressionAttributeNames)] = v
		}
	}
	return p.checkItem(r, req.TableName, assigned)
}

// checkKeyCondition finds an empty value compared with a key in a Query's key condition.
func (p *Proxy) checkKeyCondition(r *http.Request, req *request) string {
	for _, cmp := range comparisons(req.KeyConditionExpression) {
		v, ok := req.ExpressionAttributeValues[cmp.value]
		if !ok || !v.empty() {
			continue
		}
		attr := resolve(cmp.path, req.ExpressionAttributeNames)
		if req.IndexName != "" {
			return fmt.Sprintf(emptyIndexKey, req.IndexName, attr)
		}
		return fmt.Sprintf(emptyTableKey, attr)
	}
	return ""
}

// resolve turns an expression's attribute name placeholder (#n) into the name.
func resolve(path string, names map[string]string) string {
	if n, ok := names[path]; ok {
		return n
	}
	return path
}

// pathValue pairs an attribute path with the :placeholder an expression compares or
// assigns it.
type pathValue struct{ path, value string }

// assignments lists the SET actions of an update expression that assign a plain
// value: "SET a = :v, #b = :w" gives (a, :v) and (#b, :w).
func assignments(expr string) []pathValue {
	var out []pathValue
	tokens := tokenize(expr)
	inSet := false
	depth := 0
	var clause []string
	flush := func() {
		if len(clause) == 3 && clause[1] == "=" && strings.HasPrefix(clause[2], ":") {
			out = append(out, pathValue{clause[0], clause[2]})
		}
		clause = nil
	}
	for _, tok := range tokens {
		upper := strings.ToUpper(tok)
		switch {
		case depth == 0 && (upper == "SET" || upper == "REMOVE" || upper == "ADD" || upper == "DELETE"):
			flush()
			inSet = upper == "SET"
		case !inSet:
		case tok == "(":
			depth++
			clause = append(clause, tok)
		case tok == ")":
			depth--
			clause = append(clause, tok)
		case tok == "," && depth == 0:
			flush()
		default:
			clause = append(clause, tok)
		}
	}
	flush()
	return out
}

// comparisons lists what a key condition compares with a value: "a = :v",
// "begins_with(a, :v)" and "a BETWEEN :v AND :w".
func comparisons(expr string) []pathValue {
	var out []pathValue
	t := tokenize(expr)
	for i := range t {
		switch {
		case i+2 < len(t) && isComparison(t[i+1]) && strings.HasPrefix(t[i+2], ":"):
			out = append(out, pathValue{t[i], t[i+2]})
		case i+4 < len(t) && strings.EqualFold(t[i], "begins_with") && t[i+1] == "(" && t[i+3] == ",":
			out = append(out, pathValue{t[i+2], t[i+4]})
		case i+4 < len(t) && strings.EqualFold(t[i+1], "BETWEEN") && strings.EqualFold(t[i+3], "AND"):
			out = append(out, pathValue{t[i], t[i+2]}, pathValue{t[i], t[i+4]})
		}
	}
	return out
}

func isComparison(tok string) bool {
	switch tok {
	case "=", "<", "<=", ">", ">=":
		return true
	}
	return false
}

// tokenize splits a DynamoDB expression into names, placeholders, operators,
// parentheses and commas.
func tokenize(expr string) []string {
	var out []string
	i := 0
	for i < len(expr) {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == ',' || c == '=':
			out = append(out, string(c))
			i++
		case c == '<' || c == '>':
			j := i + 1
			if j < len(expr) && (expr[j] == '=' || expr[j] == '>') {
				j++
			}
			out = append(out, expr[i:j])
			i = j
		default:
			j := i
			for j < len(expr) && !strings.ContainsRune(" \t\n\r(),=<>", rune(expr[j])) {
				j++
			}
			out = append(out, expr[i:j])
			i = j
		}
	}
	return out
}

// schema answers a table's key attributes, asking dynalite once; nil when the
// table does not exist.
func (p *Proxy) schema(r *http.Request, table string) *schema {
	p.mu.Lock()
	s, ok := p.schemas[table]
	p.mu.Unlock()
	if ok {
		return s
	}
	s = p.describe(r, table)
	if s != nil {
		p.mu.Lock()
		p.schemas[table] = s
		p.mu.Unlock()
	}
	return s
}

// forget drops what the proxy knows of a table, which was created, changed or deleted.
func (p *Proxy) forget(table string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.schemas, table)
}

func (p *Proxy) describe(r *http.Request, table string) *schema {
	body, _ := json.Marshal(map[string]string{"TableName": table})
	req, err := http.NewRequestWithContext(r.Context(), "POST", p.target+"/", bytes.NewReader(body))
	if err != nil {
		return nil
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", targetPrefix+"DescribeTable")
	// dynalite wants a signature's shape and does not check it.
	req.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=dynamoproxy/20000101/"+p.region+"/dynamodb/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := p.client.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	type keyElement struct{ AttributeName string }
	type index struct {
		IndexName string
		KeySchema []keyElement
	}
	var out struct {
		Table struct {
			KeySchema              []keyElement
			GlobalSecondaryIndexes []index
			LocalSecondaryIndexes  []index
		}
	}
	if json.NewDecoder(resp.Body).Decode(&out) != nil {
		return nil
	}
	s := &schema{indexes: map[string][]string{}}
	for _, k := range out.Table.KeySchema {
		s.table = append(s.table, k.AttributeName)
	}
	for _, ix := range append(out.Table.GlobalSecondaryIndexes, out.Table.LocalSecondaryIndexes...) {
		for _, k := range ix.KeySchema {
			s.indexes[ix.IndexName] = append(s.indexes[ix.IndexName], k.AttributeName)
		}
	}
	return s
}
