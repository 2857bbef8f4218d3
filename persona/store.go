package persona

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Store errors.
var (
	ErrExists        = errors.New("persona already exists")
	ErrNotFound      = errors.New("persona not found")
	ErrStatusChanged = errors.New("persona status changed meanwhile")
	// ErrEmptyKey means a key attribute of the table or an index would be an empty
	// string, which DynamoDB refuses with a ValidationException.
	ErrEmptyKey = errors.New("an empty string in a key attribute")
)

// DynamoDB is the part of the DynamoDB client the store uses.
type DynamoDB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// Store keeps personas in the persona table.
type Store struct {
	db    DynamoDB
	table string
}

// NewStore returns a Store over the table named table.
func NewStore(db DynamoDB, table string) *Store {
	return &Store{db: db, table: table}
}

// Create writes p if no persona with its id exists, and returns ErrExists otherwise.
func (s *Store) Create(ctx context.Context, p Persona) error {
	item, err := attributevalue.MarshalMap(p)
	if err != nil {
		return fmt.Errorf("encoding persona %s: %w", p.ID, err)
	}
	if err := checkKeys(item); err != nil {
		return fmt.Errorf("creating persona %q: %w", p.ID, err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(" + AttrID + ")"),
	})
	if isConditionFailed(err) {
		return fmt.Errorf("creating persona %s: %w", p.ID, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("creating persona %s: %w", p.ID, err)
	}
	return nil
}

// Get reads the persona with the given id, strongly consistent.
func (s *Store) Get(ctx context.Context, id string) (Persona, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(id),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Persona{}, fmt.Errorf("reading persona %s: %w", id, err)
	}
	if out.Item == nil {
		return Persona{}, fmt.Errorf("reading persona %s: %w", id, ErrNotFound)
	}
	var p Persona
	if err := attributevalue.UnmarshalMap(out.Item, &p); err != nil {
		return Persona{}, fmt.Errorf("decoding persona %s: %w", id, err)
	}
	return p, nil
}

// SetTaskState records what became of the persona's provisioning task; taskErr says
// why a publish failed and is cleared otherwise.
func (s *Store) SetTaskState(ctx context.Context, id string, state TaskState, taskErr string, now time.Time) error {
	values := map[string]types.AttributeValue{
		":state": &types.AttributeValueMemberS{Value: string(state)},
		":now":   &types.AttributeValueMemberS{Value: FormatTime(now)},
	}
	update := "SET taskState = :state, updatedAt = :now REMOVE taskError"
	if taskErr != "" {
		update = "SET taskState = :state, updatedAt = :now, taskError = :err"
		values[":err"] = &types.AttributeValueMemberS{Value: taskErr}
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(id),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("attribute_exists(" + AttrID + ")"),
		ExpressionAttributeValues: values,
	})
	if isConditionFailed(err) {
		return fmt.Errorf("recording task state of persona %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("recording task state of persona %s: %w", id, err)
	}
	return nil
}

// Transition is a status change.
type Transition struct {
	From, To Status
	// Reason says why a persona failed; it is cleared for other statuses.
	Reason string
	// Profile is stored with the change when set.
	Profile *Profile
	Now     time.Time
}

// Transition moves the persona from t.From to t.To. It returns ErrStatusChanged when the
// persona's status is no longer t.From (another delivery of the same task moved it), and
// ErrNotFound when there is no such persona.
func (s *Store) Transition(ctx context.Context, id string, t Transition) error {
	if t.To == "" {
		return fmt.Errorf("moving persona %s from %s: %w (the new status)", id, t.From, ErrEmptyKey)
	}
	values := map[string]types.AttributeValue{
		":from": &types.AttributeValueMemberS{Value: string(t.From)},
		":to":   &types.AttributeValueMemberS{Value: string(t.To)},
		":now":  &types.AttributeValueMemberS{Value: FormatTime(t.Now)},
	}
	set := "SET " + AttrStatus + " = :to, updatedAt = :now"
	remove := ""
	if t.Reason != "" {
		set += ", statusReason = :reason"
		values[":reason"] = &types.AttributeValueMemberS{Value: t.Reason}
	} else {
		remove = " REMOVE statusReason"
	}
	if t.Profile != nil {
		profile, err := attributevalue.Marshal(t.Profile)
		if err != nil {
			return fmt.Errorf("encoding profile of persona %s: %w", id, err)
		}
		set += ", profile = :profile"
		values[":profile"] = profile
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(id),
		UpdateExpression:          aws.String(set + remove),
		ConditionExpression:       aws.String("attribute_exists(" + AttrID + ") AND " + AttrStatus + " = :from"),
		ExpressionAttributeValues: values,
	})
	if isConditionFailed(err) {
		// dynalite ignores ReturnValuesOnConditionCheckFailure, so tell the two causes apart by reading.
		if _, getErr := s.Get(ctx, id); errors.Is(getErr, ErrNotFound) {
			return fmt.Errorf("moving persona %s from %s to %s: %w", id, t.From, t.To, ErrNotFound)
		}
		return fmt.Errorf("moving persona %s from %s to %s: %w", id, t.From, t.To, ErrStatusChanged)
	}
	if err != nil {
		return fmt.Errorf("moving persona %s from %s to %s: %w", id, t.From, t.To, err)
	}
	return nil
}

// Cursor is where a listing continues: the last persona position read.
type Cursor struct {
	PersonaID string
	CreatedAt string
}

// ListQuery selects a page of one user's personas.
type ListQuery struct {
	UserID string
	Limit  int
	// Status keeps only personas with this status when set.
	Status Status
	After  *Cursor
}

// Page is one page of a listing; Next is nil on the last page.
type Page struct {
	Personas []Persona
	Next     *Cursor
}

// Filtered listings read the index in chunks of filteredReadSize items, at most
// maxFilteredReads times, so that a filter matching little of a long list cannot make
// one request read all of it; the page then comes back short, with a cursor to continue.
const (
	filteredReadSize = 100
	maxFilteredReads = 5
)

// List returns the user's personas, newest first, through UserIdIndex.
// A page may hold fewer than Limit personas and still have a Next cursor.
func (s *Store) List(ctx context.Context, q ListQuery) (Page, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(UserIDIndex),
		KeyConditionExpression:    aws.String(AttrUserID + " = :user"),
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(q.Limit)),
		ExpressionAttributeValues: map[string]types.AttributeValue{":user": &types.AttributeValueMemberS{Value: q.UserID}},
	}
	if q.Status != "" {
		in.FilterExpression = aws.String(AttrStatus + " = :status")
		in.ExpressionAttributeValues[":status"] = &types.AttributeValueMemberS{Value: string(q.Status)}
		in.Limit = aws.Int32(int32(max(q.Limit, filteredReadSize)))
	}
	if q.After != nil {
		in.ExclusiveStartKey = indexKey(q.UserID, q.After.PersonaID, q.After.CreatedAt)
	}
	var page Page
	for range maxFilteredReads {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return Page{}, fmt.Errorf("listing personas: %w", err)
		}
		var ps []Persona
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &ps); err != nil {
			return Page{}, fmt.Errorf("decoding personas: %w", err)
		}
		page.Personas = append(page.Personas, ps...)
		if len(page.Personas) >= q.Limit {
			// The page ends at its last persona, which may come before the end of this read.
			if len(page.Personas) > q.Limit || out.LastEvaluatedKey != nil {
				page.Personas = page.Personas[:q.Limit]
				last := page.Personas[q.Limit-1]
				page.Next = &Cursor{PersonaID: last.ID, CreatedAt: last.CreatedAt}
			}
			return page, nil
		}
		if out.LastEvaluatedKey == nil {
			return page, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	// The position holds a persona's keys, which decode as a Persona's do.
	var next Persona
	if err := attributevalue.UnmarshalMap(in.ExclusiveStartKey, &next); err != nil {
		return Page{}, fmt.Errorf("decoding the listing position: %w", err)
	}
	page.Next = &Cursor{PersonaID: next.ID, CreatedAt: next.CreatedAt}
	return page, nil
}

// indexKey is the position of a persona in UserIdIndex: the index's keys and the table's.
func indexKey(user, id, createdAt string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrID:        &types.AttributeValueMemberS{Value: id},
		AttrUserID:    &types.AttributeValueMemberS{Value: user},
		AttrCreatedAt: &types.AttributeValueMemberS{Value: createdAt},
	}
}

func key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrID: &types.AttributeValueMemberS{Value: id}}
}

// checkKeys refuses an item with an empty string in a key attribute of the table or
// of an index (every field of its schema), before DynamoDB does.
func checkKeys(item map[string]types.AttributeValue) error {
	for _, name := range TableSchema().FieldNames() {
		if v, ok := item[name].(*types.AttributeValueMemberS); ok && v.Value == "" {
			return fmt.Errorf("%w: %s", ErrEmptyKey, name)
		}
	}
	return nil
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}
