package persona

import "github.com/personabackend/app/topology"

// Names of the links the handlers read and of the table's indexes the store queries.
const (
	TableLink   = "PersonaTable"
	TopicLink   = "TaskTopic"
	QueueLink   = "PersonaQueue"
	UserIDIndex = "UserIdIndex"
	StatusIndex = "StatusIndex"
)

// TableShape returns the shape of persona table the Store relies on, named name:
// the stack's PersonaTable must have these keys and indexes. createdAt sorts
// UserIdIndex because its values are TimeLayout strings, whose lexical order is time order.
func TableShape(name string) topology.Table {
	return topology.Table{
		LinkName: TableLink,
		Name:     name,
		Fields: map[string]string{
			"personaId":     "string",
			"userId":        "string",
			"createdAt":     "string",
			"personaStatus": "string",
		},
		HashKey: "personaId",
		GlobalIndexes: []topology.Index{
			{Name: UserIDIndex, HashKey: "userId", RangeKey: "createdAt", Projection: "ALL"},
			{Name: StatusIndex, HashKey: "personaStatus", Projection: "ALL"},
		},
	}
}
