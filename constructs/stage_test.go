package constructs

import (
	"context"
	"strings"
	"testing"
)

func TestAnEmailSenderMustBeAVerifiedIdentityAndOneOfItsAddresses(t *testing.T) {
	const domain = "arn:aws:ses:eu-west-1:123456789012:identity/example.com"
	for _, tc := range []struct {
		name   string
		sender EmailSender
		err    string // empty: accepted
	}{
		{"an address of the verified domain", EmailSender{From: "no-reply@example.com", SESIdentityARN: domain}, ""},
		{"a display name and an address of the domain", EmailSender{From: "Example <no-reply@Example.com>", SESIdentityARN: domain, ReplyTo: "help@example.com"}, ""},
		{"the verified address itself", EmailSender{From: "ops@example.org", SESIdentityARN: "arn:aws:ses:us-east-1:123456789012:identity/ops@example.org"}, ""},
		{"an address of another domain", EmailSender{From: "no-reply@other.com", SESIdentityARN: domain}, "not an address of the SES identity"},
		{"another address than the verified one", EmailSender{From: "ceo@example.org", SESIdentityARN: "arn:aws:ses:us-east-1:123456789012:identity/ops@example.org"}, "not an address of the SES identity"},
		{"a name without an address", EmailSender{From: "Example", SESIdentityARN: domain}, "not an email address"},
		{"an identity name instead of its ARN", EmailSender{From: "no-reply@example.com", SESIdentityARN: "example.com"}, "not an SES identity ARN"},
		{"a reply address that is none", EmailSender{From: "no-reply@example.com", SESIdentityARN: domain, ReplyTo: "help"}, "ReplyTo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.sender.Validate()
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("Validate() = %v, want %q", err, tc.err)
			}
		})
	}
}

func TestAStageWithSettingsAWSWouldRefuseHasNoStack(t *testing.T) {
	app, err := NewApp(context.Background(), AppProps{Name: "scratch", Outdir: t.TempDir(), DeclareOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	dev, _ := LookupStage("dev")
	for _, tc := range []struct {
		name  string
		stage func(Stage) Stage
		err   string
	}{
		{"an MFA setting Cognito does not have", func(s Stage) Stage { s.UserMFA = "REQUIRED"; return s }, `user MFA "REQUIRED": use OFF, OPTIONAL or ON`},
		{"an email sender of another domain", func(s Stage) Stage {
			s.EmailSender = &EmailSender{From: "a@b.com", SESIdentityARN: "arn:aws:ses:eu-west-1:123456789012:identity/c.com"}
			return s
		}, "not an address of the SES identity"},
		{"an alarm email that is none", func(s Stage) Stage { s.AlarmEmail = []string{"oncall"}; return s }, `alarm email "oncall" is not an email address`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := app.NewStack(tc.stage(dev)); err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "stage dev") {
				t.Errorf("NewStack = %v, want an error naming the stage and %q", err, tc.err)
			}
		})
	}
}

func TestProdOffersTOTPAndHasAlarmsWhileOtherStagesDoNot(t *testing.T) {
	for _, name := range []string{"dev", "staging", "alice"} {
		s, _ := LookupStage(name)
		if s.UserMFA != "" || s.Alarms {
			t.Errorf("%s: MFA %q, alarms %v: want neither", name, s.UserMFA, s.Alarms)
		}
	}
	prod, _ := LookupStage("prod")
	if prod.UserMFA != MFAOptional || !prod.Alarms {
		t.Errorf("prod: MFA %q, alarms %v: want OPTIONAL and alarms", prod.UserMFA, prod.Alarms)
	}
}
