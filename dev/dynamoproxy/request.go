package dynamoproxy

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/personabackend/app/dev/iam"
)

// attributeValue is a DynamoDB attribute value; only the scalar types a key may have
// are read.
type attributeValue struct {
	S *string
	N *string
	B *string // base64
}

// empty reports whether v is an empty string or empty binary value.
func (v attributeValue) empty() bool {
	return (v.S != nil && *v.S == "") || (v.B != nil && *v.B == "")
}

type item = map[string]attributeValue

// request holds what the proxy reads of any DynamoDB request.
type request struct {
	TableName                 string
	IndexName                 string
	Key                       item
	Item                      item
	UpdateExpression          string
	KeyConditionExpression    string
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues item
	AttributeUpdates          map[string]struct {
		Action string
		Value  *attributeValue
	}
	Select                 string
	ReturnValues           string
	ReturnConsumedCapacity string
	RequestItems           json.RawMessage
	TransactItems          []transactItem
}

// transactItem is an entry of TransactWriteItems or TransactGetItems.
type transactItem struct {
	Put            *request
	Update         *request
	Delete         *request
	ConditionCheck *request
	Get            *request
}

type batchGet map[string]struct{ Keys []item }

type batchWrite map[string][]struct {
	PutRequest    *struct{ Item item }
	DeleteRequest *struct{ Key item }
}

// calls are the IAM calls a request makes: one per table it acts on, or per item of
// a transaction, as DynamoDB authorizes them.
func (req *request) calls(op string, arn func(table, index string) string) []iam.Call {
	context := map[string][]string{}
	for key, v := range map[string]string{"dynamodb:Select": req.Select, "dynamodb:ReturnValues": req.ReturnValues, "dynamodb:ReturnConsumedCapacity": req.ReturnConsumedCapacity} {
		if v != "" {
			context[key] = []string{v}
		}
	}
	call := func(action, table, index string) iam.Call {
		return iam.Call{Action: "dynamodb:" + action, Resource: arn(table, index), Context: context}
	}
	switch op {
	case "ListTables", "DescribeLimits", "DescribeEndpoints":
		return []iam.Call{{Action: "dynamodb:" + op, Resource: "*", Context: context}}
	case "BatchGetItem", "BatchWriteItem":
		var tables map[string]json.RawMessage
		json.Unmarshal(req.RequestItems, &tables)
		var out []iam.Call
		for _, t := range slices.Sorted(maps.Keys(tables)) {
			out = append(out, call(op, t, ""))
		}
		return out
	case "TransactWriteItems", "TransactGetItems":
		var out []iam.Call
		for _, it := range req.TransactItems {
			for action, r := range map[string]*request{"PutItem": it.Put, "UpdateItem": it.Update, "DeleteItem": it.Delete, "ConditionCheckItem": it.ConditionCheck, "GetItem": it.Get} {
				if r != nil {
					out = append(out, call(action, r.TableName, ""))
				}
			}
		}
		return out
	case "Query", "Scan":
		return []iam.Call{call(op, req.TableName, req.IndexName)}
	}
	return []iam.Call{call(op, req.TableName, "")}
}
