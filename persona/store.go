package persona

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	// ErrInvalidStatus means a persona would be stored with a status that is none of
	// the four.
	ErrInvalidStatus = errors.New("not a persona status")
)

// DynamoDB is the part of the DynamoDB client the store uses.
type DynamoDB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
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
	if !p.Status.Valid() {
		return fmt.Errorf("creating persona %q with status %q: %w", p.ID, p.Status, ErrInvalidStatus)
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
	// InFlightSince, when set, makes the move happen only while the persona's
	// inFlightSince is still this: the sweep moves what it saw stuck, and nothing that
	// has been queued again since.
	InFlightSince string
}

// Transition moves the persona from t.From to t.To. It returns ErrStatusChanged when the
// persona's status is no longer t.From (another delivery of the same task moved it), and
// ErrNotFound when there is no such persona. A move to ready or failed takes the persona
// out of StatusIndex in the same write (it removes inFlightSince); a move to
// provisioning keeps it there, and puts a persona stored before StatusIndex was sparse,
// which has no inFlightSince, there from now on.
func (s *Store) Transition(ctx context.Context, id string, t Transition) error {
	if !t.To.Valid() {
		return fmt.Errorf("moving persona %s from %s to %q: %w", id, t.From, t.To, ErrInvalidStatus)
	}
	values := map[string]types.AttributeValue{
		":from": &types.AttributeValueMemberS{Value: string(t.From)},
		":to":   &types.AttributeValueMemberS{Value: string(t.To)},
		":now":  &types.AttributeValueMemberS{Value: FormatTime(t.Now)},
	}
	set := "SET " + AttrStatus + " = :to, updatedAt = :now"
	var remove []string
	if t.Reason != "" {
		set += ", statusReason = :reason"
		values[":reason"] = &types.AttributeValueMemberS{Value: t.Reason}
	} else {
		remove = append(remove, "statusReason")
	}
	if t.To.InFlight() {
		set += ", " + AttrInFlightSince + " = if_not_exists(" + AttrInFlightSince + ", :now)"
	} else {
		remove = append(remove, AttrInFlightSince)
	}
	condition := "attribute_exists(" + AttrID + ") AND " + AttrStatus + " = :from"
	if t.InFlightSince != "" {
		condition += " AND " + AttrInFlightSince + " = :since"
		values[":since"] = &types.AttributeValueMemberS{Value: t.InFlightSince}
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
		UpdateExpression:          aws.String(set + removeClause(remove)),
		ConditionExpression:       aws.String(condition),
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

func removeClause(attrs []string) string {
	if len(attrs) == 0 {
		return ""
	}
	return " REMOVE " + strings.Join(attrs, ", ")
}

// CountInFlight counts the user's personas in flight, up to limit: one Query of
// StatusIndex, which holds nothing else, reading at most limit keys. The index is
// eventually consistent, so a persona created or finished a moment ago may be
// counted as it was.
func (s *Store) CountInFlight(ctx context.Context, user string, limit int) (int, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(StatusIndex),
		KeyConditionExpression:    aws.String(AttrUserID + " = :user"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":user": &types.AttributeValueMemberS{Value: user}},
		Select:                    types.SelectCount,
		Limit:                     aws.Int32(int32(limit)),
	})
	if err != nil {
		return 0, fmt.Errorf("counting the personas in flight: %w", err)
	}
	return int(out.Count), nil
}

// Requeue readies a persona whose task never reached the topic for another publish:
// it restarts its time in flight at now, counts the requeue and marks the task
// pending. It happens only while the persona is requested, not yet published, and
// in flight since since; otherwise it returns ErrStatusChanged.
func (s *Store) Requeue(ctx context.Context, id, since string, now time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table),
		Key:       key(id),
		UpdateExpression: aws.String("SET " + AttrInFlightSince + " = :now, updatedAt = :now, taskState = :pending, " +
			"requeues = if_not_exists(requeues, :zero) + :one REMOVE taskError"),
		ConditionExpression: aws.String(AttrInFlightSince + " = :since AND " + AttrStatus + " = :requested AND taskState <> :published"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now":       &types.AttributeValueMemberS{Value: FormatTime(now)},
			":since":     &types.AttributeValueMemberS{Value: since},
			":pending":   &types.AttributeValueMemberS{Value: string(TaskPending)},
			":published": &types.AttributeValueMemberS{Value: string(TaskPublished)},
			":requested": &types.AttributeValueMemberS{Value: string(StatusRequested)},
			":zero":      &types.AttributeValueMemberN{Value: "0"},
			":one":       &types.AttributeValueMemberN{Value: "1"},
		},
	})
	if isConditionFailed(err) {
		return fmt.Errorf("queueing persona %s again: %w", id, ErrStatusChanged)
	}
	if err != nil {
		return fmt.Errorf("queueing persona %s again: %w", id, err)
	}
	return nil
}

// InFlightRef is a persona in flight as StatusIndex holds it: its keys.
type InFlightRef struct {
	ID            string `dynamodbav:"personaId"`
	UserID        string `dynamodbav:"userId"`
	InFlightSince string `dynamodbav:"inFlightSince"`
}

// InFlightPage is one read of StatusIndex.
type InFlightPage struct {
	// Stuck are the personas in flight since before the cutoff.
	Stuck []InFlightRef
	// Read counts the index entries read, Capacity the read capacity units they cost.
	Read     int
	Capacity float64
	// Next continues the scan; nil after the last page.
	Next map[string]types.AttributeValue
}

// ScanInFlight reads one page (up to 1 MB) of StatusIndex from start (nil for the
// first) and returns the personas in flight since before cutoff. The index holds the
// personas in flight alone, so a scan of it reads those few, not the table.
func (s *Store) ScanInFlight(ctx context.Context, cutoff time.Time, start map[string]types.AttributeValue) (InFlightPage, error) {
	out, err := s.db.Scan(ctx, &dynamodb.ScanInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(StatusIndex),
		FilterExpression:          aws.String(AttrInFlightSince + " < :cutoff"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":cutoff": &types.AttributeValueMemberS{Value: FormatTime(cutoff)}},
		ExclusiveStartKey:         start,
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		return InFlightPage{}, fmt.Errorf("reading the personas in flight: %w", err)
	}
	page := InFlightPage{Read: int(out.ScannedCount), Next: out.LastEvaluatedKey}
	if out.ConsumedCapacity != nil {
		page.Capacity = aws.ToFloat64(out.ConsumedCapacity.CapacityUnits)
	}
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &page.Stuck); err != nil {
		return InFlightPage{}, fmt.Errorf("decoding the personas in flight: %w", err)
	}
	return page, nil
}

// Backfill is what BackfillInFlight did.
type Backfill struct {
	Read     int     // items of the table read
	Capacity float64 // the read capacity units that cost
	Added    int     // personas put into StatusIndex
}

// BackfillInFlight gives every persona in flight without an inFlightSince one (its
// createdAt), which puts it into StatusIndex, where the sweep and the cap on personas
// in flight find it. Personas stored before StatusIndex was keyed by inFlightSince
// lack it; those the worker moves on get it on their way, but one left requested or
// provisioning for good would stay out of sight. Run it once per stage after
// deploying that change: it reads the whole table, which nothing else does.
func (s *Store) BackfillInFlight(ctx context.Context) (Backfill, error) {
	var res Backfill
	in := &dynamodb.ScanInput{
		TableName:            aws.String(s.table),
		ProjectionExpression: aws.String(AttrID + ", " + AttrCreatedAt + ", " + AttrStatus),
		FilterExpression: aws.String("attribute_not_exists(" + AttrInFlightSince + ") AND (" +
			AttrStatus + " = :requested OR " + AttrStatus + " = :provisioning)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":requested":    &types.AttributeValueMemberS{Value: string(StatusRequested)},
			":provisioning": &types.AttributeValueMemberS{Value: string(StatusProvisioning)},
		},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	}
	for {
		out, err := s.db.Scan(ctx, in)
		if err != nil {
			return res, fmt.Errorf("reading the table for personas in flight: %w", err)
		}
		res.Read += int(out.ScannedCount)
		if out.ConsumedCapacity != nil {
			res.Capacity += aws.ToFloat64(out.ConsumedCapacity.CapacityUnits)
		}
		var found []struct {
			ID        string `dynamodbav:"personaId"`
			CreatedAt string `dynamodbav:"createdAt"`
		}
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &found); err != nil {
			return res, fmt.Errorf("decoding personas in flight: %w", err)
		}
		for _, p := range found {
			_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName:        aws.String(s.table),
				Key:              key(p.ID),
				UpdateExpression: aws.String("SET " + AttrInFlightSince + " = :since"),
				ConditionExpression: aws.String("attribute_not_exists(" + AttrInFlightSince + ") AND (" +
					AttrStatus + " = :requested OR " + AttrStatus + " = :provisioning)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":since":        &types.AttributeValueMemberS{Value: p.CreatedAt},
					":requested":    &types.AttributeValueMemberS{Value: string(StatusRequested)},
					":provisioning": &types.AttributeValueMemberS{Value: string(StatusProvisioning)},
				},
			})
			if isConditionFailed(err) {
				continue // it moved on, or got one, since the scan read it
			}
			if err != nil {
				return res, fmt.Errorf("putting persona %s into %s: %w", p.ID, StatusIndex, err)
			}
			res.Added++
		}
		if out.LastEvaluatedKey == nil {
			return res, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
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
