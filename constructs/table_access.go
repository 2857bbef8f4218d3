package constructs

import (
	"fmt"
	"slices"
	"strings"
)

// TableOp is a DynamoDB operation on one table, named as in the API and in IAM.
type TableOp string

// Table operations. IAM authorizes each by its own name: GetItem does not allow
// BatchGetItem, nor PutItem BatchWriteItem. A transaction needs the operation of each
// item: GetItem for TransactGetItems; PutItem, UpdateItem, DeleteItem or
// ConditionCheckItem for TransactWriteItems.
const (
	GetItem            TableOp = "GetItem"
	BatchGetItem       TableOp = "BatchGetItem"
	Query              TableOp = "Query"
	Scan               TableOp = "Scan"
	PutItem            TableOp = "PutItem"
	UpdateItem         TableOp = "UpdateItem"
	DeleteItem         TableOp = "DeleteItem"
	BatchWriteItem     TableOp = "BatchWriteItem"
	ConditionCheckItem TableOp = "ConditionCheckItem"
	DescribeTable      TableOp = "DescribeTable"
)

// tableOps are the operations a TableAccess may name, in the order it names them.
var tableOps = []TableOp{GetItem, BatchGetItem, Query, Scan, PutItem, UpdateItem, DeleteItem, BatchWriteItem, ConditionCheckItem, DescribeTable}

// TableAccess names exactly what a linked function may do with a table: Operations
// on the table itself, Query on each of QueryIndexes and Scan on each of ScanIndexes
// (whose IAM resource is the index, not the table). Query among Operations queries the
// table's own key; Scan among Operations reads the whole table.
//
//	TableAccess{Operations: []TableOp{GetItem, PutItem}, QueryIndexes: []string{"UserIdIndex"}}
type TableAccess struct {
	Operations   []TableOp
	QueryIndexes []string
	// ScanIndexes are indexes read whole: a sparse index, which holds only the items
	// carrying its key, is the cheap way to find few items among many.
	ScanIndexes []string
}

// levelAccess is what a short form allows on a table with these indexes: read gets and
// queries items by key, on the table and every index, but does not Scan (a read of the
// whole table, which a TableAccess names when meant); write puts, updates and deletes.
func levelAccess(level Level, indexes []string) (TableAccess, bool) {
	read := []TableOp{GetItem, BatchGetItem, Query}
	write := []TableOp{PutItem, UpdateItem, DeleteItem, BatchWriteItem}
	switch level {
	case Read:
		return TableAccess{Operations: read, QueryIndexes: indexes}, true
	case Write:
		return TableAccess{Operations: write}, true
	case ReadWrite:
		return TableAccess{Operations: append(read, write...), QueryIndexes: indexes}, true
	}
	return TableAccess{}, false
}

// AccessName lists the operations, then each index's Query and Scan, e.g.
// "GetItem,PutItem,Query:index/UserIdIndex,Scan:index/StatusIndex".
func (a TableAccess) AccessName() string {
	var parts []string
	for _, op := range tableOps {
		if slices.Contains(a.Operations, op) {
			parts = append(parts, string(op))
		}
	}
	for _, op := range a.indexOps() {
		for _, index := range op.indexes {
			if part := string(op.op) + ":index/" + index; !slices.Contains(parts, part) {
				parts = append(parts, part)
			}
		}
	}
	return strings.Join(parts, ",")
}

// indexOp is an operation a TableAccess allows on some of the table's indexes.
type indexOp struct {
	op      TableOp
	field   string // the TableAccess field naming the indexes
	indexes []string
}

func (a TableAccess) indexOps() []indexOp {
	return []indexOp{{Query, "QueryIndexes", a.QueryIndexes}, {Scan, "ScanIndexes", a.ScanIndexes}}
}

// validate checks the access against the indexes the table has.
func (a TableAccess) validate(indexes []string) error {
	if len(a.Operations) == 0 && len(a.QueryIndexes) == 0 && len(a.ScanIndexes) == 0 {
		return fmt.Errorf("the TableAccess names no operation: list Operations, QueryIndexes or ScanIndexes, or use constructs.Read")
	}
	for _, op := range a.Operations {
		if !slices.Contains(tableOps, op) {
			names := make([]string, len(tableOps))
			for i, o := range tableOps {
				names[i] = string(o)
			}
			return fmt.Errorf("%q is not a table operation: use one of %s", op, strings.Join(names, ", "))
		}
	}
	for _, op := range a.indexOps() {
		for _, index := range op.indexes {
			if !slices.Contains(indexes, index) {
				if len(indexes) == 0 {
					return fmt.Errorf("%s names %q, but the table has no global index", op.field, index)
				}
				return fmt.Errorf("%s names %q, which is not an index of the table: it has %s", op.field, index, strings.Join(indexes, ", "))
			}
		}
	}
	return nil
}

// statements grant the operations on the table's ARN, and Query and Scan on each
// index's as named.
func (a TableAccess) statements(table ARN) []Statement {
	var out []Statement
	var actions []string
	for _, op := range tableOps {
		if slices.Contains(a.Operations, op) {
			actions = append(actions, "dynamodb:"+string(op))
		}
	}
	if len(actions) > 0 {
		out = append(out, Statement{Actions: actions, Resources: []ARN{table}})
	}
	for _, op := range a.indexOps() {
		var indexes []ARN
		for _, index := range op.indexes {
			if arn := table.Sub("/index/" + index); !slices.Contains(indexes, arn) {
				indexes = append(indexes, arn)
			}
		}
		if len(indexes) > 0 {
			out = append(out, Statement{Actions: []string{"dynamodb:" + string(op.op)}, Resources: indexes})
		}
	}
	return out
}
