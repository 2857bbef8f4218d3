package tfhcl

import (
	"strings"
	"testing"
)

func TestRepairQuotesWhatCDKTFLeftUnescaped(t *testing.T) {
	for _, tc := range []struct{ name, rendered, want string }{
		{
			"a JSON policy holding a reference",
			`policy = "{"Resource":"${aws_sqs_queue.q.arn}","Effect":"Allow"}"`,
			`policy = "{\"Resource\":\"${aws_sqs_queue.q.arn}\",\"Effect\":\"Allow\"}"`,
		},
		{
			"a map entry",
			`RESOURCE_Table = "{"arn":"${aws_dynamodb_table.t.arn}"}"`,
			`RESOURCE_Table = "{\"arn\":\"${aws_dynamodb_table.t.arn}\"}"`,
		},
		{
			"a list element",
			`"{"a":"${x.y}"}",`,
			`"{\"a\":\"${x.y}\"}",`,
		},
		{
			"quotes inside the reference's own expression stay",
			`value = "{"k":"${lookup(var.m, "k")}"}"`,
			`value = "{\"k\":\"${lookup(var.m, "k")}\"}"`,
		},
		{
			"a backslash is escaped",
			`value = "a\b ${x.y}"`,
			`value = "a\\b ${x.y}"`,
		},
		{
			"an escaped interpolation stays literal",
			`value = "$${literal} ${x.y} "q""`,
			`value = "$${literal} ${x.y} \"q\""`,
		},
		{
			"a string CDKTF escaped itself is left alone",
			`assume_role_policy = "{\"Version\":\"2012-10-17\"}"`,
			`assume_role_policy = "{\"Version\":\"2012-10-17\"}"`,
		},
		{
			"a plain reference is left alone",
			`role = "${aws_iam_role.r.id}"`,
			`role = "${aws_iam_role.r.id}"`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(Repair([]byte(tc.rendered))); got != tc.want {
				t.Errorf("Repair:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestRepairWritesDependsOnAsReferences(t *testing.T) {
	rendered := "depends_on = [\n\"aws_iam_role.r\",\n\"aws_sqs_queue.q\"\n]\ntags = [\n\"a\"\n]"
	want := "depends_on = [\naws_iam_role.r,\naws_sqs_queue.q\n]\ntags = [\n\"a\"\n]"
	if got := string(Repair([]byte(rendered))); got != want {
		t.Errorf("Repair:\n%s\nwant:\n%s", got, want)
	}
}

func TestRepairLeavesHeredocsAlone(t *testing.T) {
	rendered := "script = <<EOF\necho \"${x.y}\"\nEOF\nname = \"{\"a\":\"${x.y}\"}\""
	want := "script = <<EOF\necho \"${x.y}\"\nEOF\nname = \"{\\\"a\\\":\\\"${x.y}\\\"}\""
	if got := string(Repair([]byte(rendered))); got != want {
		t.Errorf("Repair:\n%s\nwant:\n%s", got, want)
	}
}

const stackJSON = `{
  "//": {"metadata": {"stackName": "s"}},
  "terraform": {"backend": {"local": {"path": "s.tfstate"}}},
  "resource": {
    "terraform_data": {
      "a": {"//": {"metadata": {"path": "s/a"}}, "input": "{\"id\":\"${terraform_data.b.id}\"}", "depends_on": ["terraform_data.b"]},
      "b": {"input": 3, "lifecycle": {"create_before_destroy": true}}
    }
  },
  "moved": [{"from": "terraform_data.c", "to": "terraform_data.b"}]
}`

const sameHCL = `terraform {
  backend "local" {
    path = "s.tfstate"
  }
}
resource "terraform_data" "a" {
  input      = "{\"id\":\"${terraform_data.b.id}\"}"
  depends_on = [terraform_data.b]
}
resource "terraform_data" "b" {
  input = 3
  lifecycle {
    create_before_destroy = true
  }
}
moved {
  from = terraform_data.c
  to   = terraform_data.b
}
`

func TestCompareFindsTheJSONAndTheHCLAlike(t *testing.T) {
	diffs, err := Compare([]byte(stackJSON), []byte(sameHCL), "cdk.tf")
	if err != nil || len(diffs) > 0 {
		t.Errorf("Compare = %v, %v; want no difference", diffs, err)
	}
	addresses, err := Addresses([]byte(sameHCL), "cdk.tf")
	if err != nil || strings.Join(addresses, ",") != "terraform_data.a,terraform_data.b" {
		t.Errorf("Addresses = %v, %v", addresses, err)
	}
}

func TestCompareNamesEveryDifference(t *testing.T) {
	for _, tc := range []struct{ name, old, new, want string }{
		{"a changed value", `input = 3`, `input = 4`, "resource.terraform_data.b.input: JSON has 3, HCL has 4"},
		{"a string that lost its escaping", `"{\"id\":\"${terraform_data.b.id}\"}"`, `"{\"id\":${terraform_data.b.id}}"`, "resource.terraform_data.a.input"},
		{"a missing resource", "resource \"terraform_data\" \"b\" {", "resource \"terraform_data\" \"z\" {", "resource.terraform_data.b: only in JSON"},
		{"a different move", "from = terraform_data.c", "from = terraform_data.d", "moved[0].from"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			changed := strings.Replace(sameHCL, tc.old, tc.new, 1)
			if changed == sameHCL {
				t.Fatalf("the test's HCL does not contain %q", tc.old)
			}
			diffs, err := Compare([]byte(stackJSON), []byte(changed), "cdk.tf")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(diffs, "\n"), tc.want) {
				t.Errorf("differences %q do not name %q", diffs, tc.want)
			}
		})
	}
	if _, err := Compare([]byte(stackJSON), []byte(`policy = "{"a":"${x.y}"}"`), "cdk.tf"); err == nil || !strings.Contains(err.Error(), "not valid HCL") {
		t.Errorf("unparsable HCL: %v", err)
	}
}
