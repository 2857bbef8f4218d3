package queues

import "testing"

func TestFilterPolicyMatchesAsSNSDoes(t *testing.T) {
	str := func(v string) Attribute { return Attribute{DataType: "String", StringValue: v} }
	num := func(v string) Attribute { return Attribute{DataType: "Number", StringValue: v} }
	tests := []struct {
		name   string
		policy string
		attrs  map[string]Attribute
		want   bool
	}{
		{"an empty policy lets everything through", ``, nil, true},
		{"an exact string matches the same value", `{"queue":["persona"]}`, map[string]Attribute{"queue": str("persona")}, true},
		{"an exact string rejects another value", `{"queue":["persona"]}`, map[string]Attribute{"queue": str("billing")}, false},
		{"a missing attribute fails an exact match", `{"queue":["persona"]}`, nil, false},
		{"any value of a key's list may match", `{"queue":["billing","persona"]}`, map[string]Attribute{"queue": str("persona")}, true},
		{"every key must match", `{"queue":["persona"],"kind":["a"]}`, map[string]Attribute{"queue": str("persona"), "kind": str("b")}, false},
		{"anything-but rejects a listed value", `{"queue":[{"anything-but":["billing"]}]}`, map[string]Attribute{"queue": str("billing")}, false},
		{"anything-but accepts an unlisted value", `{"queue":[{"anything-but":["billing"]}]}`, map[string]Attribute{"queue": str("persona")}, true},
		{"anything-but needs the attribute present", `{"queue":[{"anything-but":"billing"}]}`, nil, false},
		{"anything-but with a prefix rejects values that have it", `{"queue":[{"anything-but":{"prefix":"bil"}}]}`, map[string]Attribute{"queue": str("billing")}, false},
		{"prefix matches the start", `{"queue":[{"prefix":"pers"}]}`, map[string]Attribute{"queue": str("persona")}, true},
		{"prefix rejects other starts", `{"queue":[{"prefix":"bill"}]}`, map[string]Attribute{"queue": str("persona")}, false},
		{"suffix matches the end", `{"file":[{"suffix":".png"}]}`, map[string]Attribute{"file": str("a.png")}, true},
		{"equals-ignore-case ignores case", `{"queue":[{"equals-ignore-case":"PERSONA"}]}`, map[string]Attribute{"queue": str("persona")}, true},
		{"exists true needs the attribute", `{"queue":[{"exists":true}]}`, nil, false},
		{"exists true accepts any value", `{"queue":[{"exists":true}]}`, map[string]Attribute{"queue": str("x")}, true},
		{"exists false accepts a missing attribute", `{"queue":[{"exists":false}]}`, nil, true},
		{"exists false rejects a present attribute", `{"queue":[{"exists":false}]}`, map[string]Attribute{"queue": str("x")}, false},
		{"numeric range accepts a value inside", `{"price":[{"numeric":[">",0,"<=",5]}]}`, map[string]Attribute{"price": num("5")}, true},
		{"numeric range rejects a value outside", `{"price":[{"numeric":[">",0,"<=",5]}]}`, map[string]Attribute{"price": num("5.5")}, false},
		{"numeric equality compares numbers, not text", `{"price":[{"numeric":["=",300]}]}`, map[string]Attribute{"price": num("3.0e2")}, true},
		{"a number literal matches a Number attribute", `{"price":[300]}`, map[string]Attribute{"price": num("300")}, true},
		{"a string literal does not match a Number attribute", `{"price":["300"]}`, map[string]Attribute{"price": num("300")}, false},
		{"a numeric condition does not match a String attribute", `{"price":[{"numeric":[">",0]}]}`, map[string]Attribute{"price": str("5")}, false},
		{"a String.Array matches when one element does", `{"tag":["b"]}`, map[string]Attribute{"tag": {DataType: "String.Array", StringValue: `["a","b"]`}}, true},
		{"a String.Array fails when no element does", `{"tag":["c"]}`, map[string]Attribute{"tag": {DataType: "String.Array", StringValue: `["a","b"]`}}, false},
		{"$or matches when one of its policies does", `{"$or":[{"queue":["persona"]},{"kind":["urgent"]}]}`, map[string]Attribute{"kind": str("urgent")}, true},
		{"$or fails when none of its policies does", `{"$or":[{"queue":["persona"]},{"kind":["urgent"]}]}`, map[string]Attribute{"kind": str("later")}, false},
		{"$or adds to the keys beside it", `{"source":["api"],"$or":[{"queue":["persona"]},{"kind":["urgent"]}]}`, map[string]Attribute{"source": str("cron"), "kind": str("urgent")}, false},
		{"anything-but equals-ignore-case rejects a listed value in any case", `{"queue":[{"anything-but":{"equals-ignore-case":["Billing","audit"]}}]}`, map[string]Attribute{"queue": str("BILLING")}, false},
		{"cidr matches an address inside the block", `{"ip":[{"cidr":"10.0.0.0/24"}]}`, map[string]Attribute{"ip": str("10.0.0.7")}, true},
		{"cidr rejects an address outside the block", `{"ip":[{"cidr":"10.0.0.0/24"}]}`, map[string]Attribute{"ip": str("10.0.1.7")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fp, err := parseFilterPolicy(tt.policy, "")
			if err != nil {
				t.Fatal(err)
			}
			if got := fp.matches("ignored", tt.attrs); got != tt.want {
				t.Errorf("policy %s on %v: got %v, want %v", tt.policy, tt.attrs, got, tt.want)
			}
		})
	}
}

func TestFilterPolicyRejectsWhatSNSRejects(t *testing.T) {
	for _, policy := range []string{
		`["persona"]`,
		`{"queue":"persona"}`,
		`{"queue":[]}`,
		`{"queue":[{"numeric":[">"]}]}`,
		`{"queue":[{"numeric":["~",1]}]}`,
		`{"queue":[{"wildcard":"p*"}]}`,
		`{"queue":[{"prefix":"a","suffix":"b"}]}`,
		`{"task":{"queue":["persona"]}}`,
		`{"$or":[{"queue":["persona"]}]}`,
		`{"ip":[{"cidr":"10.0.0.0"}]}`,
	} {
		if _, err := parseFilterPolicy(policy, ScopeAttributes); err == nil {
			t.Errorf("policy %s was accepted", policy)
		}
	}
	if _, err := parseFilterPolicy(`{"queue":["persona"]}`, "Body"); err == nil {
		t.Error("an unknown scope was accepted")
	}
}

func TestABodyFilterPolicyMatchesTheKeysOfAJSONBody(t *testing.T) {
	tests := []struct {
		name, policy, body string
		want               bool
	}{
		{"a top-level key matches", `{"queue":["persona"]}`, `{"queue":"persona"}`, true},
		{"a nested key matches", `{"task":{"queue":["persona"]}}`, `{"task":{"queue":"persona","id":1}}`, true},
		{"a nested key with another value fails", `{"task":{"queue":["persona"]}}`, `{"task":{"queue":"billing"}}`, false},
		{"a nested key under an array matches any element", `{"tasks":{"queue":["persona"]}}`, `{"tasks":[{"queue":"billing"},{"queue":"persona"}]}`, true},
		{"an array of values matches when one does", `{"tags":["b"]}`, `{"tags":["a","b"]}`, true},
		{"numbers in the body match numeric conditions", `{"price":[{"numeric":[">",10]}]}`, `{"price":12.5}`, true},
		{"exists false matches a body without the key", `{"queue":[{"exists":false}]}`, `{"other":1}`, true},
		{"$or looks at the body", `{"$or":[{"queue":["persona"]},{"kind":["urgent"]}]}`, `{"kind":"urgent"}`, true},
		{"a body that is not JSON matches nothing", `{"queue":["persona"]}`, `queue persona`, false},
		{"message attributes do not count", `{"queue":["persona"]}`, `{}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fp, err := parseFilterPolicy(tt.policy, ScopeBody)
			if err != nil {
				t.Fatal(err)
			}
			attrs := map[string]Attribute{"queue": {DataType: "String", StringValue: "persona"}}
			if got := fp.matches(tt.body, attrs); got != tt.want {
				t.Errorf("policy %s on body %s: got %v, want %v", tt.policy, tt.body, got, tt.want)
			}
		})
	}
}
