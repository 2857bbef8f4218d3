// Package shared is a store used by several fixture programs, each calling part of it.
package shared

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// DB is the part of the DynamoDB client the store uses.
type DB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// Key names an item.
type Key string

// Store reads and writes items.
type Store struct{ db DB }

// NewStore returns a store over db.
func NewStore(db DB) *Store { return &Store{db: db} }

// Get reads an item.
func (s *Store) Get(ctx context.Context, k Key) error {
	_, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("items")})
	return err
}

// Put writes an item.
func (s *Store) Put(ctx context.Context, k Key) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("items")})
	return err
}

// ByOwner queries the owner index.
func (s *Store) ByOwner(ctx context.Context, owner string) error {
	in := &dynamodb.QueryInput{TableName: aws.String("items"), IndexName: aws.String(OwnerIndex)}
	_, err := s.db.Query(ctx, in)
	return err
}

// OwnerIndex is the index of items by owner.
const OwnerIndex = "OwnerIndex"
