package dynamoproxy

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/personabackend/app/dev/iam"
	"github.com/personabackend/app/internal/iamaction"
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

// transactPart is what an entry of a transaction asks: the operation DynamoDB
// authorizes it as, the operation whose key rules it follows, and its request.
type transactPart struct {
	action, keysLike string
	req              *request
}

// parts are the item's parts in one fixed order; DynamoDB takes one per item.
func (it transactItem) parts() []transactPart {
	all := []transactPart{
		{"PutItem", "PutItem", it.Put}, {"UpdateItem", "UpdateItem", it.Update}, {"DeleteItem", "DeleteItem", it.Delete},
		{"ConditionCheckItem", "GetItem", it.ConditionCheck}, {"GetItem", "GetItem", it.Get},
	}
	return slices.DeleteFunc(all, func(p transactPart) bool { return p.req == nil })
}

type batchGet map[string]struct{ Keys []item }

type batchWrite map[string][]struct {
	PutRequest    *struct{ Item item }
	DeleteRequest *struct{ Key item }
}

// calls are the IAM calls a request makes: one per table it acts on, or per item of
// a transaction, in the request's order, as DynamoDB authorizes them.
func (req *request) calls(op string, arn func(table, index string) string) ([]iam.Call, error) {
	context := map[string][]string{}
	for key, v := range map[string]string{"dynamodb:Select": req.Select, "dynamodb:ReturnValues": req.ReturnValues, "dynamodb:ReturnConsumedCapacity": req.ReturnConsumedCapacity} {
		if v != "" {
			context[key] = []string{v}
		}
	}
	type target struct{ operation, resource string }
	var targets []target
	switch op {
	case "ListTables", "DescribeLimits", "DescribeEndpoints":
		targets = []target{{op, "*"}}
	case "BatchGetItem", "BatchWriteItem":
		var tables map[string]json.RawMessage
		json.Unmarshal(req.RequestItems, &tables)
		for _, t := range slices.Sorted(maps.Keys(tables)) {
			targets = append(targets, target{op, arn(t, "")})
		}
	case "TransactWriteItems", "TransactGetItems":
		for _, it := range req.TransactItems {
			for _, part := range it.parts() {
				targets = append(targets, target{part.action, arn(part.req.TableName, "")})
			}
		}
	case "Query", "Scan":
		targets = []target{{op, arn(req.TableName, req.IndexName)}}
	default:
		targets = []target{{op, arn(req.TableName, "")}}
	}
	out := make([]iam.Call, 0, len(targets))
	for _, t := range targets {
		action, err := iamaction.For("dynamodb", t.operation)
		if err != nil {
			return nil, err
		}
		out = append(out, iam.Call{Action: action, Resource: t.resource, Context: context})
	}
	return out, nil
}
