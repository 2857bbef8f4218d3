package conformance

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	dynamoDocs       = "https://docs.aws.amazon.com/amazondynamodb/latest/"
	putItemDoc       = dynamoDocs + "APIReference/API_PutItem.html"
	getItemDoc       = dynamoDocs + "APIReference/API_GetItem.html"
	updateItemDoc    = dynamoDocs + "APIReference/API_UpdateItem.html"
	deleteItemDoc    = dynamoDocs + "APIReference/API_DeleteItem.html"
	batchWriteDoc    = dynamoDocs + "APIReference/API_BatchWriteItem.html"
	queryDoc         = dynamoDocs + "APIReference/API_Query.html"
	transactWriteDoc = dynamoDocs + "APIReference/API_TransactWriteItems.html"
	dataTypesDoc     = dynamoDocs + "developerguide/HowItWorks.NamingRulesDataTypes.html"
	quotasDynamoDoc  = dynamoDocs + "developerguide/ServiceQuotas.html"
)

// withTable declares a table keyed by id, with the index ByOwner (owner, createdAt).
func withTable(ctx context.Context, c *target, fn func(table string) string) string {
	t := tableDef{name: c.unique("things"), hashKey: "id", indexName: "ByOwner", indexHashKey: "owner", indexRangeKey: "createdAt"}
	if err := c.declare.table(ctx, t); err != nil {
		return "declaring the table: " + failed(err)
	}
	return fn(t.name)
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// thing is an item of the scenario table.
func thing(id, owner, createdAt string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"id": s(id), "owner": s(owner), "createdAt": s(createdAt)}
}

func putThing(ctx context.Context, c *target, table string, item map[string]types.AttributeValue) string {
	_, err := c.dynamodb.PutItem(ctx, &dynamodb.PutItemInput{TableName: str(table), Item: item})
	return failed(err)
}

func dynamodbScenarios() []scenario {
	const invalid = "error ValidationException (generic) 400"
	return []scenario{
		{
			name: "PutItem with an empty string table key is ValidationException",
			doc:  dataTypesDoc, want: invalid,
			run: func(ctx context.Context, c *target) string {
				return withTable(ctx, c, func(table string) string { return putThing(ctx, c, table, thing("", "ada", "1")) })
			},
		},
		{
			name: "PutItem with an empty string index key is ValidationException",
			doc:  dataTypesDoc, want: invalid,
			run: func(ctx context.Context, c *target) string {
				return withTable(ctx, c, func(table string) string { return putThing(ctx, c, table, thing("t1", "", "1")) })
			},
		},
		{
			name: "PutItem with an index key of the wrong type is ValidationException",
			doc:  putItemDoc, want: invalid,
			run: func(ctx context.Context, c *target) string {
				return withTable(ctx, c, func(table string) string {
					item := thing("t1", "ada", "1")
					item["owner"] = &types.AttributeValueMemberN{Value: "7"}
					return putThing(ctx, c, table, item)
				})
			},
		},
		{
			name: "GetItem with an empty string key is ValidationException",
			doc:  getItemDoc, want: invalid,
			run: func(ctx context.Context, c *target) string {
				return withTable(ctx, c, func(table string) string {
					_, err := c.dynamodb.GetItem(ctx, &dynamodb.GetItemInput{TableName: str(table), Key: map[string]types.AttributeValue{"id": s("")}})
					return failed(err)
				})
			},
		},
		{
			name: "DeleteItem with an empty string key is ValidationException",
			doc:  deleteItemDoc, want: invalid,
			run: func(ctx context.Context, c *target) string {
				return withTable(ctx, c, func(table string) string {
					_, err := c.dynamodb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: str(table), Key: map[string]types.AttributeValue{"id": s("")}})
					return failed(err)
				})
			},
		},
		{
			name: "UpdateItem setting an index key to an empty string is ValidationException",
			doc:  updateItemDoc, want: invalid,
			run: func(ctx context.Context, c *target) string {
				return withTable(ctx, c, func(table string) string {
					if got := putThing(ctx, c, table, thing("t1", "ada", "1")); got != "ok" {
						return got
					}
					_, err := c.dynamodb.UpdateItem(ctx, &dynamodb.UpdateItemInput{
						TableName: str(table), Key: map[string]types.AttributeValue{"id": s("t1")},
						UpdateExpression:          str("SET #o = :owner"),
						ExpressionAttributeNames:  map[string]string{"#o": "owner"},
						ExpressionAttributeValues: map[string]types.AttributeValue{":owner": s("")},
					})
					return failed(err)
				})
			},
		},
		{
			name: "BatchWriteItem with an empty string key is ValidationException",
			doc:  batchWriteDoc, want: invalid,
			run: func(ctx context.Context, c *target) string {
				return withTable(ctx, c, func(table string) string {
					_, err := c.dynamodb.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
						table: {{PutRequest: &types.PutRequest{Item: thing("t1", "ada", "1")}}, {PutRequest: &types.PutRequest{Item: thing("t2", "", "1")}}},
					}})
					return failed(err)
				})
			},
		},
		{
			name: "BatchWriteItem of 26 requests is ValidationException",
			doc:  batchWriteDoc, want: invalid,
			run: func(ctx context.Context, c *target) string {
				return withTable(ctx, c, func(table string) string {
					var requests []types.WriteRequest
					for i := range 26 {
						requests = append(requests, types.WriteRequest{PutRequest: &types.PutRequest{Item: thing(fmt.Sprint("t", i), "ada", "1")}})
					}
					_, err := c.dynamodb.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: requests}})
					return failed(err)
				})
			},
		},
		{
			name: "Query with an empty string key value is ValidationException",
			doc:  queryDoc, want: invalid,
			run: func(ctx context.Context, c *target) string {
				return withTable(ctx, c, func(table string) string {
					_, err := c.dynamodb.Query(ctx, &dynamodb.QueryInput{
						TableName: str(table), IndexName: str("ByOwner"),
						KeyConditionExpression:    str("#o = :owner"),
						ExpressionAttributeNames:  map[string]string{"#o": "owner"},
						ExpressionAttributeValues: map[string]types.AttributeValue{":owner": s("")},
					})
					return failed(err)
				})
			},
		},
		{
			name: "an empty string in an attribute that is no key is stored",
			doc:  dataTypesDoc, want: `ok note=""`,
			run: func(ctx context.Context, c *target) string {
				return withTable(ctx, c, func(table string) string {
					item := thing("t1", "ada", "1")
					item["note"] = s("")
					if got := putThing(ctx, c, table, item); got != "ok" {
						return got
					}
					out, err := c.dynamodb.GetItem(ctx, &dynamodb.GetItemInput{TableName: str(table), Key: map[string]types.AttributeValue{"id": s("t1")}, ConsistentRead: aws.Bool(true)})
					if err != nil {
						return failed(err)
					}
					note, ok := out.Item["note"].(*types.AttributeValueMemberS)
					if !ok {
						return fmt.Sprintf("note = %#v", out.Item["note"])
					}
					return fmt.Sprintf("ok note=%q", note.Value)
				})
			},
		},
		{
			name: "a write whose condition fails is ConditionalCheckFailedException",
			doc:  putItemDoc, want: "error ConditionalCheckFailedException (ConditionalCheckFailedException) 400",
			run: func(ctx context.Context, c *target) string {
				return withTable(ctx, c, func(table string) string {
					if got := putThing(ctx, c, table, thing("t1", "ada", "1")); got != "ok" {
						return got
					}
					_, err := c.dynamodb.PutItem(ctx, &dynamodb.PutItemInput{TableName: str(table), Item: thing("t1", "bob", "2"), ConditionExpression: str("attribute_not_exists(id)")})
					return failed(err)
				})
			},
		},
		{
			name: "PutItem to an unknown table is ResourceNotFoundException",
			doc:  putItemDoc, want: "error ResourceNotFoundException (ResourceNotFoundException) 400",
			run: func(ctx context.Context, c *target) string {
				return putThing(ctx, c, c.unique("absent"), thing("t1", "ada", "1"))
			},
		},
		{
			name: "Query on a global index returns its items in descending sort key order",
			doc:  queryDoc, want: "[t3 t2 t1]",
			run: func(ctx context.Context, c *target) string {
				return withTable(ctx, c, func(table string) string {
					for i, id := range []string{"t1", "t2", "t3"} {
						if got := putThing(ctx, c, table, thing(id, "ada", fmt.Sprint(i))); got != "ok" {
							return got
						}
					}
					if got := putThing(ctx, c, table, thing("other", "bob", "9")); got != "ok" {
						return got
					}
					out, err := c.dynamodb.Query(ctx, &dynamodb.QueryInput{
						TableName: str(table), IndexName: str("ByOwner"), ScanIndexForward: aws.Bool(false),
						KeyConditionExpression:    str("#o = :owner"),
						ExpressionAttributeNames:  map[string]string{"#o": "owner"},
						ExpressionAttributeValues: map[string]types.AttributeValue{":owner": s("ada")},
					})
					if err != nil {
						return failed(err)
					}
					var ids []string
					for _, it := range out.Items {
						ids = append(ids, it["id"].(*types.AttributeValueMemberS).Value)
					}
					return "[" + strings.Join(ids, " ") + "]"
				})
			},
		},
		{
			name: "an item over 400 KB is ValidationException",
			doc:  quotasDynamoDoc, want: invalid,
			run: func(ctx context.Context, c *target) string {
				return withTable(ctx, c, func(table string) string {
					item := thing("t1", "ada", "1")
					item["blob"] = s(strings.Repeat("x", 400*1024+1))
					return putThing(ctx, c, table, item)
				})
			},
		},
		{
			name: "TransactWriteItems writes every item",
			doc:  transactWriteDoc, want: "ok, 2 stored",
			run: func(ctx context.Context, c *target) string {
				return withTable(ctx, c, func(table string) string {
					_, err := c.dynamodb.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
						{Put: &types.Put{TableName: str(table), Item: thing("t1", "ada", "1")}},
						{Put: &types.Put{TableName: str(table), Item: thing("t2", "ada", "2")}},
					}})
					if err != nil {
						return failed(err)
					}
					out, err := c.dynamodb.Scan(ctx, &dynamodb.ScanInput{TableName: str(table), ConsistentRead: aws.Bool(true)})
					if err != nil {
						return failed(err)
					}
					return fmt.Sprintf("ok, %d stored", out.Count)
				})
			},
		},
	}
}
