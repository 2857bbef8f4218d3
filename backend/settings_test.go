package backend

import (
	"context"
	"strings"
	"testing"

	"github.com/personabackend/app/constructs"
)

func TestTheUserPoolsMFAAndEmailSenderComeFromTheEnvironment(t *testing.T) {
	t.Setenv("USER_MFA", "on")
	t.Setenv("EMAIL_FROM", "Persona <no-reply@example.com>")
	t.Setenv("EMAIL_SES_IDENTITY_ARN", "arn:aws:ses:us-east-1:123456789012:identity/example.com")
	t.Setenv("EMAIL_REPLY_TO", "help@example.com")
	cfg, err := ConfigFromEnv(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stages, err := cfg.Stages()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stages {
		if s.UserMFA != constructs.MFARequired || s.EmailSender == nil || s.EmailSender.From != "Persona <no-reply@example.com>" || s.EmailSender.ReplyTo != "help@example.com" {
			t.Errorf("%s: MFA %q, sender %+v", s.Name, s.UserMFA, s.EmailSender)
		}
	}
}

func TestSettingsThatWouldWeakenProdOrCannotWorkAreRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		err  string
	}{
		{"MFA off on prod", Config{UserMFA: constructs.MFAOff}, "USER_MFA=OFF: stage prod is protected"},
		{"a sender without its identity", Config{EmailSender: &constructs.EmailSender{From: "no-reply@example.com"}}, "EMAIL_FROM and EMAIL_SES_IDENTITY_ARN go together"},
		{"an identity without a sender", Config{EmailSender: &constructs.EmailSender{SESIdentityARN: "arn:aws:ses:us-east-1:123456789012:identity/example.com"}}, "EMAIL_FROM and EMAIL_SES_IDENTITY_ARN go together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.cfg.Stages(); err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Stages() = %v, want %q", err, tc.err)
			}
		})
	}
	// Off is fine on a stage that is not protected.
	if stages, err := (Config{Stage: "alice", UserMFA: constructs.MFAOff}).Stages(); err != nil || stages[0].UserMFA != constructs.MFAOff {
		t.Errorf("USER_MFA=OFF for alice = %+v, %v", stages, err)
	}
}

func TestAlarmsAndTheirEmailComeFromTheEnvironmentAndProdKeepsThem(t *testing.T) {
	t.Setenv("ALARMS", "on")
	t.Setenv("ALARM_EMAIL", "oncall@example.com, team@example.com")
	cfg, err := ConfigFromEnv(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	stages, err := cfg.Stages()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stages {
		if !s.Alarms || strings.Join(s.AlarmEmail, ",") != "oncall@example.com,team@example.com" {
			t.Errorf("%s: alarms %v to %v", s.Name, s.Alarms, s.AlarmEmail)
		}
	}
	t.Setenv("ALARMS", "off")
	cfg, err = ConfigFromEnv(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Stages(); err == nil || !strings.Contains(err.Error(), "ALARMS=off: stage prod is protected") {
		t.Errorf("ALARMS=off for every stage = %v, want prod refused", err)
	}
	cfg.Stage = "alice"
	if stages, err := cfg.Stages(); err != nil || stages[0].Alarms {
		t.Errorf("ALARMS=off for alice = %+v, %v", stages, err)
	}
	t.Setenv("ALARMS", "sometimes")
	if _, err := ConfigFromEnv(context.Background()); err == nil || !strings.Contains(err.Error(), "ALARMS=on or ALARMS=off") {
		t.Errorf("ALARMS=sometimes = %v", err)
	}
}
