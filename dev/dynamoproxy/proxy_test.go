package dynamoproxy_test

import (
	"context"
	"errors"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/personabackend/app/dev/dynamoproxy"
	"github.com/personabackend/app/dev/iam"
	"github.com/personabackend/app/dynamo"
	"github.com/personabackend/app/internal/localaws"
	"github.com/personabackend/app/internal/localaws/localawstest"
)

// personas is a table shaped like the persona table.
var personas = dynamo.Table{
	Fields:        map[string]dynamo.FieldType{"personaId": dynamo.String, "userId": dynamo.String, "createdAt": dynamo.String},
	PrimaryIndex:  dynamo.Index{HashKey: "personaId"},
	GlobalIndexes: map[string]dynamo.GlobalIndex{"UserIdIndex": {HashKey: "userId", RangeKey: "createdAt"}},
}

// serve starts dynalite with the personas table behind a proxy and returns a client
// signing with accessKey.
func serve(t *testing.T, accessKey string, opts ...dynamoproxy.Option) *dynamodb.Client {
	t.Helper()
	return client(t, start(t, opts...), accessKey)
}

// start starts dynalite with the personas table behind a proxy, and answers the proxy's URL.
func start(t *testing.T, opts ...dynamoproxy.Option) string {
	t.Helper()
	db := localawstest.BareDynalite(t)
	srv := httptest.NewServer(dynamoproxy.New(db.Endpoint, "us-east-1", opts...))
	t.Cleanup(srv.Close)
	if err := localaws.CreateTable(context.Background(), client(t, srv.URL, "developer"), "personas", personas); err != nil {
		t.Fatal(err)
	}
	return srv.URL
}

func client(t *testing.T, url, key string) *dynamodb.Client {
	t.Helper()
	return dynamodb.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(key, "secret", "")},
		func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(url) })
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func validation(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" {
		t.Fatalf("got %v, want ValidationException", err)
	}
	return ae.ErrorMessage()
}

func TestAnEmptyKeyValueIsRefusedWithDynamoDBsMessage(t *testing.T) {
	db := serve(t, "developer")
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"an item with an empty table key", func() error {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("personas"), Item: map[string]types.AttributeValue{"personaId": s(""), "userId": s("u")}})
			return err
		}, "The AttributeValue for a key attribute cannot contain an empty string value. Key: personaId"},
		{"an item with an empty index key", func() error {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("personas"), Item: map[string]types.AttributeValue{"personaId": s("p"), "userId": s(""), "createdAt": s("t")}})
			return err
		}, "A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: UserIdIndex, IndexKey: userId"},
		{"an update setting an index key through AttributeUpdates", func() error {
			_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("personas"), Key: map[string]types.AttributeValue{"personaId": s("p")},
				AttributeUpdates: map[string]types.AttributeValueUpdate{"createdAt": {Action: types.AttributeActionPut, Value: s("")}}})
			return err
		}, "IndexName: UserIdIndex, IndexKey: createdAt"},
		{"an update setting an index key among other actions", func() error {
			_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("personas"), Key: map[string]types.AttributeValue{"personaId": s("p")},
				UpdateExpression:          aws.String("SET note = if_not_exists(note, :n), userId = :u REMOVE old"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":n": s(""), ":u": s("")}})
			return err
		}, "IndexName: UserIdIndex, IndexKey: userId"},
		{"a query comparing an index key with an empty value", func() error {
			_, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("personas"), IndexName: aws.String("UserIdIndex"),
				KeyConditionExpression:    aws.String("userId = :u AND begins_with(createdAt, :c)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":u": s("ada"), ":c": s("")}})
			return err
		}, "IndexName: UserIdIndex, IndexKey: createdAt"},
		{"a batch get with an empty key", func() error {
			_, err := db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				"personas": {Keys: []map[string]types.AttributeValue{{"personaId": s("p")}, {"personaId": s("")}}},
			}})
			return err
		}, "Key: personaId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := validation(t, tt.call()); !strings.HasPrefix(got, "One or more parameter values are not valid. ") || !strings.Contains(got, tt.want) {
				t.Errorf("message %q, want it to say %q", got, tt.want)
			}
		})
	}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("personas"), Item: map[string]types.AttributeValue{"personaId": s("p"), "note": s("")}}); err != nil {
		t.Errorf("an empty string in an attribute that is no key: %v", err)
	}
}

func TestARecreatedTableIsCheckedWithItsNewKeys(t *testing.T) {
	db := serve(t, "developer")
	ctx := context.Background()
	if _, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("personas")}); err != nil {
		t.Fatal(err)
	}
	// dynalite deletes a table a moment after answering; recreating it sooner finds it in use.
	gone := dynamodb.NewTableNotExistsWaiter(db, func(o *dynamodb.TableNotExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 200*time.Millisecond
	})
	if err := gone.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("personas")}, time.Minute); err != nil {
		t.Fatal(err)
	}
	renamed := dynamo.Table{
		Fields:        map[string]dynamo.FieldType{"personaId": dynamo.String, "ownerId": dynamo.String},
		PrimaryIndex:  dynamo.Index{HashKey: "personaId"},
		GlobalIndexes: map[string]dynamo.GlobalIndex{"ByOwner": {HashKey: "ownerId"}},
	}
	if err := localaws.CreateTable(ctx, db, "personas", renamed); err != nil {
		t.Fatal(err)
	}
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("personas"), Item: map[string]types.AttributeValue{"personaId": s("p"), "ownerId": s(""), "userId": s("")}})
	if got := validation(t, err); !strings.Contains(got, "IndexName: ByOwner, IndexKey: ownerId") {
		t.Errorf("message %q, want the new index named", got)
	}
}

func TestAFunctionMakesOnlyTheCallsItsPolicyAllows(t *testing.T) {
	table := "arn:aws:dynamodb:us-east-1:000000000000:table/personas"
	policy, err := iam.NewPolicy([]iam.Statement{
		{Effect: iam.Allow, Actions: []string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"}, Resources: []string{table, table + "/index/*"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var denied []string
	authz := iam.NewAuthorizer(func(d *iam.Denial) { denied = append(denied, d.Call.Action+" "+d.Call.Resource) })
	authz.Add("ASIALIST", iam.Principal{Name: "list", ARN: "arn:aws:sts::000000000000:assumed-role/list/list", Policy: policy})
	db := serve(t, "ASIALIST", dynamoproxy.WithAuthorizer(authz))
	ctx := context.Background()

	if _, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("personas"), IndexName: aws.String("UserIdIndex"),
		KeyConditionExpression: aws.String("userId = :u"), ExpressionAttributeValues: map[string]types.AttributeValue{":u": s("ada")}}); err != nil {
		t.Errorf("a query of an index the policy covers: %v", err)
	}
	_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("personas"), Item: map[string]types.AttributeValue{"personaId": s("p")}})
	var ae smithy.APIError
	want := "User: arn:aws:sts::000000000000:assumed-role/list/list is not authorized to perform: dynamodb:PutItem on resource: " + table + " because no identity-based policy allows the dynamodb:PutItem action"
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || ae.ErrorMessage() != want {
		t.Errorf("PutItem: got %v, want AccessDeniedException saying %q", err, want)
	}
	_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{TableName: aws.String("personas"), Key: map[string]types.AttributeValue{"personaId": s("p")}, ConditionExpression: aws.String("attribute_exists(personaId)")}},
	}})
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || !strings.Contains(ae.ErrorMessage(), "dynamodb:ConditionCheckItem") {
		t.Errorf("a transaction's condition check: got %v, want AccessDeniedException for dynamodb:ConditionCheckItem", err)
	}
	if want := []string{"dynamodb:PutItem " + table, "dynamodb:ConditionCheckItem " + table}; strings.Join(denied, "|") != strings.Join(want, "|") {
		t.Errorf("denials heard: %v, want %v", denied, want)
	}
	if unused := authz.Unused(); len(unused) != 1 || strings.Join(unused[0].Actions, ",") != "dynamodb:getitem,dynamodb:batchgetitem" {
		t.Errorf("unused grants %+v, want GetItem and BatchGetItem", unused)
	}
}

func TestTheProxysOwnAnswersCarryDynamoDBsChecksum(t *testing.T) {
	url := start(t)
	req, err := http.NewRequest("POST", url, strings.NewReader(`{"TableName":"personas","Key":{"personaId":{"S":""}}}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.GetItem")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || !strings.Contains(string(body), "ValidationException") {
		t.Fatalf("got %d %s, want the proxy's ValidationException", resp.StatusCode, body)
	}
	if got, want := resp.Header.Get("X-Amz-Crc32"), strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10); got != want {
		t.Errorf("X-Amz-Crc32 = %q, want %q, the CRC32 of the body", got, want)
	}
}

func TestARequestTheProxyCannotReadIsRefusedNotPassedOn(t *testing.T) {
	var behind atomic.Int32
	dynalite := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { behind.Add(1) }))
	t.Cleanup(dynalite.Close)
	authz := iam.NewAuthorizer(nil)
	authz.Add("ASIALIST", iam.Principal{Name: "list", ARN: "arn:aws:sts::000000000000:assumed-role/list/list", Policy: &iam.Policy{}})
	srv := httptest.NewServer(dynamoproxy.New(dynalite.URL, "us-east-1", dynamoproxy.WithAuthorizer(authz)))
	t.Cleanup(srv.Close)
	for _, body := range []string{`{"TableName":"personas","Item":`, `{"TableName":"personas","Item":"not an item"}`, ``} {
		req, err := http.NewRequest("POST", srv.URL, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810.PutItem")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=ASIALIST/20261201/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(answer), "SerializationException") {
			t.Errorf("body %q: got %d %s, want 400 SerializationException", body, resp.StatusCode, answer)
		}
	}
	if n := behind.Load(); n != 0 {
		t.Errorf("%d requests the proxy could not read reached dynalite unchecked", n)
	}
}
