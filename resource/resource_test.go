package resource

import (
	"errors"
	"strings"
	"testing"
)

func TestGetTableReadsTheLinkedTable(t *testing.T) {
	t.Setenv(EnvName("Orders"), `{"kind":"table","name":"shop-dev-orders","arn":"arn:aws:dynamodb:eu-west-1:1:table/shop-dev-orders"}`)
	table, err := GetTable("Orders")
	if err != nil {
		t.Fatal(err)
	}
	if table.Name != "shop-dev-orders" || !strings.HasSuffix(table.Arn, "table/shop-dev-orders") {
		t.Errorf("table = %+v", table)
	}
}

func TestAMissingLinkNamesTheResourceAndWhatIsLinked(t *testing.T) {
	t.Setenv(EnvName("Orders"), `{"kind":"table","name":"t"}`)
	_, err := GetTopic("Events")
	var notLinked *NotLinkedError
	if !errors.As(err, &notLinked) || notLinked.Name != "Events" {
		t.Fatalf("err = %v, want a NotLinkedError for Events", err)
	}
	if msg := err.Error(); !strings.Contains(msg, `"Events" is not linked`) || !strings.Contains(msg, "RESOURCE_Events") || !strings.Contains(msg, "Orders") {
		t.Errorf("message = %q", msg)
	}
}

func TestALinkOfAnotherKindIsRefused(t *testing.T) {
	t.Setenv(EnvName("Orders"), `{"kind":"table","name":"t"}`)
	if _, err := GetQueue("Orders"); err == nil || !strings.Contains(err.Error(), "is a table, not a queue") {
		t.Errorf("err = %v", err)
	}
	t.Setenv(EnvName("Broken"), `{"kind":`)
	if _, err := GetTable("Broken"); err == nil || !strings.Contains(err.Error(), "invalid JSON") {
		t.Errorf("err = %v", err)
	}
}

func TestLinkedListsEveryLinkSorted(t *testing.T) {
	t.Setenv(EnvName("Zeta"), `{"kind":"queue"}`)
	t.Setenv(EnvName("Alpha"), `{"kind":"topic"}`)
	got := strings.Join(Linked(), ",")
	if !strings.Contains(got, "Alpha,") || strings.Index(got, "Alpha") > strings.Index(got, "Zeta") {
		t.Errorf("Linked() = %s", got)
	}
}
