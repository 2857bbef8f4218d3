// Command server is called by net/http and encoding/json: ServeHTTP is reached from
// outside the module, and so is MarshalJSON of a field of what it encodes; Purge
// (whose signature names a type of the module) is reached from nowhere.
package main

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/personabackend/app/internal/awscalls/testdata/shared"
)

type server struct{ db *dynamodb.Client }

func (s server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = s.db.UpdateItem(r.Context(), &dynamodb.UpdateItemInput{TableName: aws.String("items")})
	_ = json.NewEncoder(w).Encode(report{Table: tableStats{db: s.db}})
}

func (s server) Purge(ctx context.Context, k shared.Key) error {
	_, err := s.db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("items")})
	return err
}

type report struct{ Table tableStats }

type tableStats struct{ db *dynamodb.Client }

func (t tableStats) MarshalJSON() ([]byte, error) {
	out, err := t.db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String("items")})
	if err != nil {
		return nil, err
	}
	return json.Marshal(out.Table.ItemCount)
}

func main() {
	_ = http.ListenAndServe(":8080", server{db: dynamodb.NewFromConfig(aws.Config{})})
}
