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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fp, err := parseFilterPolicy(tt.policy)
			if err != nil {
				t.Fatal(err)
			}
			if got := fp.matches(tt.attrs); got != tt.want {
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
	} {
		if _, err := parseFilterPolicy(policy); err == nil {
			t.Errorf("policy %s was accepted", policy)
		}
	}
}
