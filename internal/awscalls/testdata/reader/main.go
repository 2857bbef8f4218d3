// Command reader only reads: its handler reaches the store's Get alone, though the
// store it shares with writer and indexed can also put and query.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/personabackend/app/internal/awscalls/testdata/shared"
)

// getter is what the handler needs of the store. The store is converted to it, an
// interface of the module, which code outside the module cannot call through.
type getter interface {
	Get(ctx context.Context, k shared.Key) error
}

type handler struct{ store getter }

func (h *handler) handle(ctx context.Context, k string) error { return h.store.Get(ctx, shared.Key(k)) }

func main() {
	h := &handler{store: shared.NewStore(dynamodb.NewFromConfig(aws.Config{}))}
	lambda.Start(h.handle)
}
