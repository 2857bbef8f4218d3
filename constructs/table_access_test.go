package constructs

import (
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/personabackend/app/dynamo"
)

// ordersTable is a table with two indexes, on a stack of its own.
func ordersTable(t *testing.T) *PersonaTable {
	t.Helper()
	table, err := NewPersonaTable(scratchStack(t), "Orders", TableProps{Schema: dynamo.Table{
		Fields:       map[string]dynamo.FieldType{"orderId": dynamo.String, "customerId": dynamo.String, "state": dynamo.String},
		PrimaryIndex: dynamo.Index{HashKey: "orderId"},
		GlobalIndexes: map[string]dynamo.GlobalIndex{
			"ByCustomer": {HashKey: "customerId"},
			"ByState":    {HashKey: "state"},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return table
}

// arnToken is the table's ARN as a construct holds it, a token Terraform resolves.
var arnToken = regexp.MustCompile(`^\$\{TfToken\[TOKEN\.\d+\]\}`)

// linkLines links the table with access and returns "action resource" lines, the
// table's ARN written "table".
func linkLines(t *testing.T, table *PersonaTable, access Access) []string {
	t.Helper()
	grant, err := table.Link(access)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, st := range grant.Statements {
		for _, a := range st.Actions {
			for _, r := range st.Resources {
				out = append(out, a+" "+arnToken.ReplaceAllString(r.Expr, "table"))
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestTableAccessGrantsItsOperationsOnTheTableAndQueryOnItsIndexesAlone(t *testing.T) {
	table := ordersTable(t)
	for _, tc := range []struct {
		name   string
		access Access
		want   []string
	}{
		{"read gets and queries, on the table and on each index by name, and never scans", Read, []string{
			"dynamodb:BatchGetItem table", "dynamodb:GetItem table", "dynamodb:Query table",
			"dynamodb:Query table/index/ByCustomer", "dynamodb:Query table/index/ByState",
		}},
		{"write puts, updates and deletes", Write, []string{
			"dynamodb:BatchWriteItem table", "dynamodb:DeleteItem table", "dynamodb:PutItem table", "dynamodb:UpdateItem table",
		}},
		{"read-write is read and write", ReadWrite, []string{
			"dynamodb:BatchGetItem table", "dynamodb:BatchWriteItem table", "dynamodb:DeleteItem table", "dynamodb:GetItem table",
			"dynamodb:PutItem table", "dynamodb:Query table", "dynamodb:Query table/index/ByCustomer", "dynamodb:Query table/index/ByState",
			"dynamodb:UpdateItem table",
		}},
		{"named operations are granted on the table only", TableAccess{Operations: []TableOp{PutItem, GetItem}}, []string{
			"dynamodb:GetItem table", "dynamodb:PutItem table",
		}},
		{"a named index gets Query on that index and nothing on the table", TableAccess{QueryIndexes: []string{"ByCustomer"}}, []string{
			"dynamodb:Query table/index/ByCustomer",
		}},
		{"a scan is granted when named", &TableAccess{Operations: []TableOp{Scan, Scan}}, []string{"dynamodb:Scan table"}},
		{"a scanned index gets Scan on that index and nothing on the table or other indexes", TableAccess{ScanIndexes: []string{"ByState"}}, []string{
			"dynamodb:Scan table/index/ByState",
		}},
		{"an index both queried and scanned gets each action on it", TableAccess{Operations: []TableOp{GetItem}, QueryIndexes: []string{"ByState"}, ScanIndexes: []string{"ByState"}}, []string{
			"dynamodb:GetItem table", "dynamodb:Query table/index/ByState", "dynamodb:Scan table/index/ByState",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := linkLines(t, table, tc.access); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("grants:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func TestTableAccessRefusesWhatTheTableCannotGrant(t *testing.T) {
	table := ordersTable(t)
	for _, tc := range []struct {
		name   string
		access Access
		want   string
	}{
		{"an operation DynamoDB does not have", TableAccess{Operations: []TableOp{"GetItems"}}, `"GetItems" is not a table operation: use one of GetItem, BatchGetItem`},
		{"an index the table does not have", TableAccess{QueryIndexes: []string{"ByDate"}}, `"ByDate", which is not an index of the table: it has ByCustomer, ByState`},
		{"a scanned index the table does not have", TableAccess{ScanIndexes: []string{"ByDate"}}, `ScanIndexes names "ByDate", which is not an index`},
		{"an access naming nothing", TableAccess{}, "names no operation"},
		{"a level tables do not offer", Publish, `with "publish" access: a table accepts read, write, read-write, a TableAccess`},
		{"a nil TableAccess", (*TableAccess)(nil), "the TableAccess is a nil pointer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := table.Link(tc.access); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Link = %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func TestATableAccessIsNamedTheSameWhateverItsOrder(t *testing.T) {
	a := TableAccess{Operations: []TableOp{UpdateItem, GetItem}, QueryIndexes: []string{"ByCustomer"}, ScanIndexes: []string{"ByState"}}
	b := TableAccess{Operations: []TableOp{GetItem, UpdateItem, GetItem}, QueryIndexes: []string{"ByCustomer", "ByCustomer"}, ScanIndexes: []string{"ByState"}}
	if a.AccessName() != "GetItem,UpdateItem,Query:index/ByCustomer,Scan:index/ByState" || b.AccessName() != a.AccessName() {
		t.Errorf("names = %q and %q", a.AccessName(), b.AccessName())
	}
}
