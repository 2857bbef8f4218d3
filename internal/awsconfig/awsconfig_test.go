package awsconfig

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// isolate hides the machine's AWS configuration and credentials from the SDK and
// gives it the profile file config instead.
func isolate(t *testing.T, config string) {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", metadataEnv} {
		t.Setenv(name, "")
		os.Unsetenv(name)
	}
	path := filepath.Join(dir, "config")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", path)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
}

func TestTheRegionIsAWSRegionElseTheProfilesElseUsEast1(t *testing.T) {
	tests := []struct {
		name   string
		env    string
		config string
		want   string
	}{
		{"AWS_REGION wins over the profile", "eu-west-3", "[default]\nregion = ap-south-1\n", "eu-west-3"},
		{"the profile's region without AWS_REGION", "", "[default]\nregion = ap-south-1\n", "ap-south-1"},
		{"us-east-1 when neither names one", "", "", DefaultRegion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t, tt.config)
			if tt.env != "" {
				t.Setenv("AWS_REGION", tt.env)
			}
			cfg, err := Load(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Region != tt.want {
				t.Errorf("region = %q, want %q", cfg.Region, tt.want)
			}
		})
	}
}

func TestInstanceMetadataIsProbedOnlyWhenAskedFor(t *testing.T) {
	tests := []struct {
		name       string
		disabled   string // AWS_EC2_METADATA_DISABLED, "" for unset
		wantProbed bool
	}{
		{"not asked: never probed", "", false},
		{"AWS_EC2_METADATA_DISABLED=false asks for it", "false", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t, "")
			var requests atomic.Int32
			imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				http.Error(w, "no instance role here", http.StatusNotFound)
			}))
			t.Cleanup(imds.Close)
			t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.URL)
			if tt.disabled != "" {
				t.Setenv(metadataEnv, tt.disabled)
			}
			cfg, err := Load(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cfg.Credentials.Retrieve(context.Background()); err == nil {
				t.Fatal("credentials found on a machine that has none")
			}
			if probed := requests.Load() > 0; probed != tt.wantProbed {
				t.Errorf("instance metadata probed = %v (%d requests), want %v", probed, requests.Load(), tt.wantProbed)
			}
		})
	}
}
