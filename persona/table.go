package persona

import "github.com/personabackend/app/dynamo"

// Key attributes of the persona table and its indexes, as Persona's dynamodbav tags
// name them (a test holds the tags to these names).
const (
	AttrID        = "personaId"
	AttrUserID    = "userId"
	AttrCreatedAt = "createdAt"
	// AttrInFlightSince is set only while a persona is in flight (requested or
	// provisioning), to when it was last handed to the worker: TimeLayout, like
	// createdAt. The move to ready or failed removes it in the same write.
	AttrInFlightSince = "inFlightSince"
)

// AttrStatus is the persona's status, which no index keys: the personas in flight
// are found by AttrInFlightSince.
const AttrStatus = "personaStatus"

// Global indexes of the persona table.
const (
	// UserIDIndex lists a user's personas, newest first through createdAt, whose
	// TimeLayout values sort lexically in time order.
	UserIDIndex = "UserIdIndex"
	// StatusIndex holds the personas in flight and no others: its range key is
	// inFlightSince, and DynamoDB leaves out of an index every item that lacks one of
	// its keys. Its hash key is the owner, so writes spread over users rather than
	// piling into one status's partition, a user's personas in flight are one Query
	// (the cap on them), and the sweep reads every persona in flight, the few among
	// all, with one Scan of it. It projects the keys alone: the sweep reads a stuck
	// persona itself, consistently, before it acts.
	StatusIndex = "StatusIndex"
)

// TableSchema is the persona table: personas by id, by owner (newest first), and
// those in flight by owner. The stack declares the table with it, the Store queries
// what it declares, and the dev mode and the tests create local tables from it.
func TableSchema() dynamo.Table {
	return dynamo.Table{
		Fields: map[string]dynamo.FieldType{
			AttrID:            dynamo.String,
			AttrUserID:        dynamo.String,
			AttrCreatedAt:     dynamo.String,
			AttrInFlightSince: dynamo.String,
		},
		PrimaryIndex: dynamo.Index{HashKey: AttrID},
		GlobalIndexes: map[string]dynamo.GlobalIndex{
			UserIDIndex: {HashKey: AttrUserID, RangeKey: AttrCreatedAt},
			StatusIndex: {HashKey: AttrUserID, RangeKey: AttrInFlightSince, Projection: dynamo.Projection{KeysOnly: true}},
		},
	}
}
