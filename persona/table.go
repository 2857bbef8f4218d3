package persona

import "github.com/personabackend/app/dynamo"

// Key attributes of the persona table, as Persona's dynamodbav tags name them (a
// test holds the tags to these names).
const (
	AttrID        = "personaId"
	AttrUserID    = "userId"
	AttrCreatedAt = "createdAt"
	AttrStatus    = "personaStatus"
)

// Global indexes of the persona table.
const (
	// UserIDIndex lists a user's personas, newest first through createdAt, whose
	// TimeLayout values sort lexically in time order.
	UserIDIndex = "UserIdIndex"
	// StatusIndex finds personas by status.
	StatusIndex = "StatusIndex"
)

// TableSchema is the persona table: personas by id, by owner (newest first) and by
// status. The stack declares the table with it, the Store queries what it declares,
// and the dev mode and the tests create local tables from it.
func TableSchema() dynamo.Table {
	return dynamo.Table{
		Fields: map[string]dynamo.FieldType{
			AttrID:        dynamo.String,
			AttrUserID:    dynamo.String,
			AttrCreatedAt: dynamo.String,
			AttrStatus:    dynamo.String,
		},
		PrimaryIndex: dynamo.Index{HashKey: AttrID},
		GlobalIndexes: map[string]dynamo.GlobalIndex{
			UserIDIndex: {HashKey: AttrUserID, RangeKey: AttrCreatedAt},
			StatusIndex: {HashKey: AttrStatus},
		},
	}
}
