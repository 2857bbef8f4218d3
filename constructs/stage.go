package constructs

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
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
