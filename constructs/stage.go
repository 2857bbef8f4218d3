package constructs

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Stage is the settings one deployment of the app runs with. Constructs read it,
// so what differs between dev and prod is stated once, here.
type Stage struct {
	Name string
	// Personal marks a stage that is not built in (a developer's own); it runs with dev settings.
	Personal bool
	// Protected keeps data safe from removal: deletion protection, prevent_destroy.
	Protected bool
	// LogRetentionDays is how long function and access logs are kept.
	LogRetentionDays int
	// FunctionMemoryMB and FunctionTimeout are the defaults for Go functions.
	FunctionMemoryMB int
	FunctionTimeout  time.Duration
	// ThrottleBurst and ThrottleRate are the API's default route throttling (requests, requests per second).
	ThrottleBurst int
	ThrottleRate  float64
	// AuthIssuer and AuthAudience configure the API's JWT authorizer. When AuthIssuer is
	// empty the stack creates a Cognito user pool and app client for the stage.
	AuthIssuer   string
	AuthAudience []string
	// UserMFA is the stage's user pool's second sign-in factor (TOTP apps).
	UserMFA MFA
	// EmailSender, when set, makes the stage's user pool send its emails (invitations,
	// codes) through Amazon SES from a verified identity. Unset, Cognito sends them
	// itself, from no-reply@verificationemail.com, within a quota of 50 emails a day
	// per account and region: enough to try a stage, not for real users.
	EmailSender *EmailSender
	// Alarms turns on the stack's alarms (see NewAlarms); protected stages have them
	// by default. AlarmEmail are the addresses the alarms notify: each address gets a
	// confirmation email from AWS and receives nothing until it is confirmed.
	Alarms     bool
	AlarmEmail []string
}

// MFA is a user pool's multi-factor sign-in with time-based one-time passwords (TOTP).
type MFA string

// MFA settings. Cognito can change between them later without replacing the pool.
const (
	// MFAOff signs users in with their password alone.
	MFAOff MFA = "OFF"
	// MFAOptional asks for a TOTP code from each user who has set up an authenticator app.
	MFAOptional MFA = "OPTIONAL"
	// MFARequired makes every user set up an authenticator app and give its code at each sign-in.
	MFARequired MFA = "ON"
)

// EmailSender is a verified Amazon SES identity a user pool sends its email from.
type EmailSender struct {
	// From is the sender, an address of the identity: "no-reply@example.com" or
	// "Example <no-reply@example.com>".
	From string
	// SESIdentityARN is the verified SES identity (the address or its domain), e.g.
	// arn:aws:ses:eu-west-1:123456789012:identity/example.com: in the pool's region, or
	// one of the few others Cognito's email settings accept for it. SES must be out of
	// its sandbox to email addresses it has not verified.
	SESIdentityARN string
	// ReplyTo, when set, is where replies go.
	ReplyTo string
}

var (
	sesIdentityARN = regexp.MustCompile(`^arn:aws[a-z-]*:ses:[a-z0-9-]+:[0-9]{12}:identity/(.+)$`)
	emailAddress   = regexp.MustCompile(`^[^\s@<>]+@([^\s@<>]+\.[^\s@<>]+)$`)
)

// Validate checks that the sender can be used: a verified identity's ARN, and a From
// address that belongs to that identity (the address itself, or an address of its domain).
func (e EmailSender) Validate() error {
	m := sesIdentityARN.FindStringSubmatch(e.SESIdentityARN)
	if m == nil {
		return fmt.Errorf("email sender: %q is not an SES identity ARN: write arn:aws:ses:<region>:<account>:identity/<domain or address>, as the SES console shows it", e.SESIdentityARN)
	}
	identity := strings.ToLower(m[1])
	from := e.From
	if open, end := strings.LastIndex(from, "<"), strings.LastIndex(from, ">"); open >= 0 && end == len(from)-1 {
		from = from[open+1 : end]
	}
	address := emailAddress.FindStringSubmatch(strings.TrimSpace(from))
	if address == nil {
		return fmt.Errorf("email sender: From %q is not an email address: write no-reply@example.com or \"Example <no-reply@example.com>\"", e.From)
	}
	if lower := strings.ToLower(address[0]); lower != identity && strings.ToLower(address[1]) != identity {
		return fmt.Errorf("email sender: From %q is not an address of the SES identity %q: send from that address or from an address of that domain", e.From, m[1])
	}
	if e.ReplyTo != "" && !emailAddress.MatchString(e.ReplyTo) {
		return fmt.Errorf("email sender: ReplyTo %q is not an email address", e.ReplyTo)
	}
	return nil
}

// validate checks the settings a synth cannot do without.
func (s Stage) validate() error {
	switch s.UserMFA {
	case "", MFAOff, MFAOptional, MFARequired:
	default:
		return fmt.Errorf("stage %s: user MFA %q: use OFF, OPTIONAL or ON", s.Name, s.UserMFA)
	}
	if s.EmailSender != nil {
		if err := s.EmailSender.Validate(); err != nil {
			return fmt.Errorf("stage %s: %w", s.Name, err)
		}
	}
	for _, address := range s.AlarmEmail {
		if !emailAddress.MatchString(address) {
			return fmt.Errorf("stage %s: alarm email %q is not an email address", s.Name, address)
		}
	}
	return nil
}

var stageNamePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,19}$`)

// builtInStages are the shared stages; every other valid name is a personal stage.
var builtInStages = map[string]Stage{
	"dev": {
		Name: "dev", LogRetentionDays: 7,
		FunctionMemoryMB: 256, FunctionTimeout: 10 * time.Second,
		ThrottleBurst: 50, ThrottleRate: 100,
	},
	"staging": {
		Name: "staging", LogRetentionDays: 30,
		FunctionMemoryMB: 512, FunctionTimeout: 10 * time.Second,
		ThrottleBurst: 200, ThrottleRate: 500,
	},
	"prod": {
		Name: "prod", Protected: true, LogRetentionDays: 365,
		FunctionMemoryMB: 1024, FunctionTimeout: 10 * time.Second,
		ThrottleBurst: 1000, ThrottleRate: 5000,
		UserMFA: MFAOptional, Alarms: true,
	},
}

// BuiltInStageNames lists the shared stages: dev, prod, staging.
func BuiltInStageNames() []string {
	return slices.Sorted(maps.Keys(builtInStages))
}

// LookupStage returns the settings of the stage called name. A name that is not
// built in is a personal stage with dev settings.
func LookupStage(name string) (Stage, error) {
	if err := ValidateStageName(name); err != nil {
		return Stage{}, err
	}
	if s, ok := builtInStages[name]; ok {
		return s, nil
	}
	s := builtInStages["dev"]
	s.Name = name
	s.Personal = true
	return s, nil
}

// ValidateStageName checks that name can name a stage and the resources in it.
func ValidateStageName(name string) error {
	if !stageNamePattern.MatchString(name) {
		return fmt.Errorf("invalid stage name %q: use 1-20 lowercase letters, digits and hyphens, starting with a letter (for example STAGE=alice)", name)
	}
	if name[len(name)-1] == '-' {
		return fmt.Errorf("invalid stage name %q: it must not end with a hyphen", name)
	}
	return nil
}
