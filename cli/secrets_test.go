package cli_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/personabackend/app/internal/localaws"
	"github.com/personabackend/app/internal/localaws/localawstest"
)

func TestSecretsSetListAndRemoveInTheLocalStore(t *testing.T) {
	p := newProject(t, "MyApiKey", "OtherKey")

	assertContains(t, "set", mustRun(t, p, "secrets", "set", "MyApiKey", "dev-secret-1", "--stage", "dev", "--store", "local").stdout,
		"Set MyApiKey for stage dev", "/persona/dev/MyApiKey")
	mustRun(t, p, "secrets", "set", "MyApiKey", "--stage", "staging", "--store", "local", "--", "-starts-with-dash")
	if r := run(t, p, "piped-secret-2\n", "secrets", "set", "OtherKey", "--fallback", "--store", "local"); r.code != 0 {
		t.Fatalf("set from stdin failed: %s", r.stderr)
	}

	list := mustRun(t, p, "secrets", "list", "--stage", "dev", "--store", "local").stdout
	assertContains(t, "list", list, "MyApiKey   set", "OtherKey   fallback")
	if strings.Contains(list, "dev-secret-1") || strings.Contains(list, "piped-secret-2") {
		t.Errorf("list shows values without --reveal:\n%s", list)
	}
	assertContains(t, "list --reveal", mustRun(t, p, "secrets", "list", "--stage", "dev", "--store", "local", "--reveal").stdout,
		"dev-secret-1", "piped-secret-2\n")

	staging := mustRun(t, p, "secrets", "list", "--stage", "staging", "--store", "local").stdout
	assertContains(t, "staging list", staging, "MyApiKey   set", "OtherKey   fallback")
	assertContains(t, "prod list", mustRun(t, p, "secrets", "list", "--stage", "prod", "--store", "local").stdout,
		"MyApiKey   missing", "go run . secrets set MyApiKey --stage prod")
	assertContains(t, "staging list --reveal", mustRun(t, p, "secrets", "list", "--stage", "staging", "--store", "local", "--reveal").stdout,
		"-starts-with-dash")

	mustRun(t, p, "secrets", "remove", "MyApiKey", "--stage", "dev", "--store", "local")
	assertContains(t, "list after remove", mustRun(t, p, "secrets", "list", "--stage", "dev", "--store", "local").stdout,
		"MyApiKey   missing")
	again := mustFail(t, p, "", "secrets", "remove", "MyApiKey", "--stage", "dev", "--store", "local")
	assertContains(t, "second remove", again.stderr, "MyApiKey has no value of its own for stage dev", "nothing was removed")

	for _, file := range []string{"dev.json", "_fallback.json"} {
		info, err := os.Stat(filepath.Join(p.root, ".secrets", "persona", file))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has permissions %v, want 0600", file, info.Mode().Perm())
		}
	}
}

func TestTheLocalStageUsesTheLocalStoreByDefault(t *testing.T) {
	p := newProject(t, "MyApiKey")
	noAWSCredentials(t)

	mustRun(t, p, "secrets", "set", "MyApiKey", "v", "--stage", "local")
	if _, err := os.Stat(filepath.Join(p.root, ".secrets", "persona", "local.json")); err != nil {
		t.Errorf("the local stage's value is not in .secrets: %v", err)
	}
	ssm := mustFail(t, p, "", "secrets", "set", "MyApiKey", "v", "--stage", "dev")
	assertContains(t, "dev without credentials", ssm.stderr, "no AWS credentials found")
}

func TestSecretsCommandsRefuseAStageTogetherWithTheFallback(t *testing.T) {
	tests := [][]string{
		{"secrets", "set", "MyApiKey", "v", "--stage", "dev", "--fallback", "--store", "local"},
		{"secrets", "load", ".env", "--fallback", "--stage", "dev", "--store", "local"},
		{"secrets", "list", "--stage", "dev", "--fallback", "--store", "local"},
		{"secrets", "remove", "MyApiKey", "--stage", "dev", "--fallback", "--store", "local"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			p := newProject(t, "MyApiKey")
			if err := os.WriteFile(filepath.Join(p.root, ".env"), []byte("MyApiKey=v\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			r := mustFail(t, p, "", args...)
			if r.code != 2 {
				t.Errorf("exit code %d, want 2 (a usage error)", r.code)
			}
			assertContains(t, "error", r.stderr, "give --stage STAGE or --fallback, not both", "Usage: go run . "+strings.Join(args[:2], " "))
			if _, err := os.Stat(filepath.Join(p.root, ".secrets")); err == nil {
				t.Error("something was written to the local store")
			}
		})
	}
}

func TestSecretsRefuseUndeclaredNames(t *testing.T) {
	p := newProject(t, "MyApiKey", "OtherKey")
	r := mustFail(t, p, "", "secrets", "set", "MyApiKy", "v", "--stage", "dev", "--store", "local")
	assertContains(t, "error", r.stderr, `unknown secret "MyApiKy"`, "the app declares MyApiKey, OtherKey")
}

func TestSecretsLoad(t *testing.T) {
	tests := []struct {
		name       string
		file       string
		wantErr    []string
		wantValues map[string]string // --reveal list lines
	}{
		{
			name: "comments, export prefixes, quotes and escapes are parsed as dotenv",
			file: "# keys for dev\nexport MyApiKey='sk-$literal#1'\n\nOtherKey=\"line one\\nline two\" # trailing comment\n",
			wantValues: map[string]string{
				"MyApiKey": "sk-$literal#1",
				"OtherKey": "line one",
			},
		},
		{
			name: "a value with $ is stored as written, never expanded",
			file: "MyApiKey=ab$CD9xy\nOtherKey=\"${MyApiKey}\\$x\"\n",
			wantValues: map[string]string{
				"MyApiKey": "ab$CD9xy",
				"OtherKey": "${MyApiKey}$x",
			},
		},
		{
			name:    "a backslash that starts no escape writes nothing and names its line",
			file:    "MyApiKey=one\nOtherKey=\"tw\\o\"\n",
			wantErr: []string{"nothing was written", "line 2: a backslash in a double-quoted value must start an escape"},
		},
		{
			name:    "an undeclared name writes nothing and names its line",
			file:    "MyApiKey=one\n# comment\nMyApiKy=two\n",
			wantErr: []string{"nothing was written", `line 3: unknown secret "MyApiKy"`, "the app declares MyApiKey, OtherKey"},
		},
		{
			name:    "a malformed line writes nothing and names its line",
			file:    "MyApiKey=one\n\nOther-Key=two\n",
			wantErr: []string{"nothing was written", "line 3: expected NAME=value"},
		},
		{
			name:    "an unclosed quote is reported where the value starts",
			file:    "MyApiKey=one\nOtherKey=\"never closed\nmore\n",
			wantErr: []string{"line 2: a quoted value is not closed"},
		},
		{
			name:    "a name given twice is refused",
			file:    "MyApiKey=one\nMyApiKey=two\n",
			wantErr: []string{"line 2: MyApiKey is already set on line 1"},
		},
		{
			name:    "an empty value is refused",
			file:    "MyApiKey=\n",
			wantErr: []string{"line 1: MyApiKey has an empty value"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProject(t, "MyApiKey", "OtherKey")
			file := filepath.Join(p.root, ".env")
			if err := os.WriteFile(file, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			r := run(t, p, "", "secrets", "load", file, "--stage", "dev", "--store", "local")
			if tt.wantErr != nil {
				if r.code == 0 {
					t.Fatalf("load succeeded, want an error:\n%s", r.stdout)
				}
				assertContains(t, "load error", r.stderr, tt.wantErr...)
				if strings.Contains(r.stderr, "one") || strings.Contains(r.stderr, "two") || strings.Contains(r.stderr, "never closed") {
					t.Errorf("the error shows a value from the file:\n%s", r.stderr)
				}
				if _, err := os.Stat(filepath.Join(p.root, ".secrets")); err == nil {
					t.Error("something was written to the local store")
				}
				return
			}
			if r.code != 0 {
				t.Fatalf("load failed: %s", r.stderr)
			}
			list := mustRun(t, p, "secrets", "list", "--stage", "dev", "--store", "local", "--reveal").stdout
			for name, value := range tt.wantValues {
				assertContains(t, "list --reveal", list, name+"   set      "+value)
			}
		})
	}
}

// ssmStore is moto's SSM Parameter Store, which the tool reaches through the SDK's
// usual configuration: test credentials, no region (the tool's default applies), and
// the endpoint in AWS_ENDPOINT_URL_SSM. One moto serves the package's tests, emptied
// for each.
type ssmStore struct {
	t      *testing.T
	client *ssm.Client
	calls  *ssmCalls
}

// ssmCalls records the requests the tool sends to SSM, each as its operation and body.
type ssmCalls struct {
	mu   sync.Mutex
	sent []string // "GetParameters {...}"
}

func (c *ssmCalls) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.sent...)
}

// recordingProxy forwards requests to endpoint, recording each in calls.
func recordingProxy(t *testing.T, endpoint string, calls *ssmCalls) string {
	t.Helper()
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		operation := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSSM.")
		calls.mu.Lock()
		calls.sent = append(calls.sent, operation+" "+string(body))
		calls.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

var sharedMoto struct {
	once sync.Once
	srv  *localaws.Server
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedMoto.srv != nil {
		sharedMoto.srv.Stop()
	}
	os.Exit(code)
}

func useSSM(t *testing.T) ssmStore {
	t.Helper()
	sharedMoto.once.Do(func() { sharedMoto.srv, sharedMoto.err = localaws.StartMoto(context.Background()) })
	if errors.Is(sharedMoto.err, localaws.ErrToolMissing) {
		localawstest.SkipOrFail(t, sharedMoto.err)
	}
	if sharedMoto.err != nil {
		t.Fatal(sharedMoto.err)
	}
	if err := localawstest.ResetMoto(context.Background(), sharedMoto.srv); err != nil {
		t.Fatal(err)
	}
	noAWSCredentials(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	calls := &ssmCalls{}
	t.Setenv("AWS_ENDPOINT_URL_SSM", recordingProxy(t, sharedMoto.srv.Endpoint, calls))
	client := ssm.NewFromConfig(localawstest.Config(), func(o *ssm.Options) { o.BaseEndpoint = aws.String(sharedMoto.srv.Endpoint) })
	return ssmStore{t: t, client: client, calls: calls}
}

// set stores a value as another tool would.
func (s ssmStore) set(name, value string) {
	s.t.Helper()
	if _, err := s.client.PutParameter(context.Background(), &ssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String(value), Type: ssmtypes.ParameterTypeSecureString,
	}); err != nil {
		s.t.Fatal(err)
	}
}

// get returns a parameter's decrypted value and type, and whether it exists.
func (s ssmStore) get(name string) (value string, typ ssmtypes.ParameterType, found bool) {
	s.t.Helper()
	out, err := s.client.GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	var notFound *ssmtypes.ParameterNotFound
	if errors.As(err, &notFound) {
		return "", "", false
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return aws.ToString(out.Parameter.Value), out.Parameter.Type, true
}

func TestSecretsInSSMThroughTheSDKCredentialChain(t *testing.T) {
	p := newProject(t, "MyApiKey", "OtherKey")
	store := useSSM(t)
	store.set("/persona/_fallback/OtherKey", "shared")

	r := run(t, p, "from-stdin\n", "secrets", "set", "MyApiKey", "--stage", "dev")
	if r.code != 0 {
		t.Fatalf("set failed: %s", r.stderr)
	}
	assertContains(t, "set", r.stdout, "SSM Parameter Store")
	if value, typ, _ := store.get("/persona/dev/MyApiKey"); value != "from-stdin" || typ != ssmtypes.ParameterTypeSecureString {
		t.Errorf("SSM holds %s %q, want SecureString from-stdin", typ, value)
	}
	assertContains(t, "list", mustRun(t, p, "secrets", "list", "--stage", "dev").stdout,
		"MyApiKey   set", "OtherKey   fallback")
	mustRun(t, p, "secrets", "remove", "MyApiKey", "--stage", "dev")
	if _, _, found := store.get("/persona/dev/MyApiKey"); found {
		t.Error("remove left the parameter in SSM")
	}
}

func TestSecretsLoadIntoSSMNamesWhatAFailedWriteLeftWritten(t *testing.T) {
	p := newProject(t, "MyApiKey", "OtherKey")
	// SSM refuses parameter names that start with "ssm", so OtherKey's write fails.
	p.refused = "OtherKey"
	store := useSSM(t)
	file := filepath.Join(p.root, ".env")
	if err := os.WriteFile(file, []byte("OtherKey=two\nMyApiKey=one\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	r := mustFail(t, p, "", "secrets", "load", file, "--stage", "dev")
	assertContains(t, "load error", r.stderr, "writing SSM parameter /ssm/dev/OtherKey",
		"already written: /persona/dev/MyApiKey\n", "not written: /ssm/dev/OtherKey\n", "run the same command again")
	if got, _, _ := store.get("/persona/dev/MyApiKey"); got != "one" {
		t.Errorf("MyApiKey in SSM = %q, want the value the error says was written", got)
	}
}

func TestDeployChecksSecretsInSSMAndNeverGivesThemToTerraform(t *testing.T) {
	p := newProject(t, "MyApiKey")
	useTerraform(t)
	store := useSSM(t)

	assertContains(t, "deploy without the secret", mustFail(t, p, "", "deploy", "--stage", "dev").stderr,
		"go run . secrets set MyApiKey --stage dev --store ssm\n")
	store.set("/persona/dev/MyApiKey", "s3cr3t-value")
	mustRun(t, p, "deploy", "--stage", "dev")
	calls := store.calls.list()
	if len(calls) == 0 {
		t.Fatal("deploy sent nothing to SSM")
	}
	for _, call := range calls {
		// Checking presence needs ssm:GetParameters alone; decryption would need kms:Decrypt.
		if !strings.HasPrefix(call, "GetParameters ") || !strings.Contains(call, `"WithDecryption":false`) {
			t.Errorf("deploy sent SSM %s, want GetParameters without decryption alone", call)
		}
	}

	err := filepath.WalkDir(p.root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err == nil && strings.Contains(string(data), "s3cr3t-value") {
			t.Errorf("%s holds the secret value", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAProtectedStageReadsItsOwnSecretValuesOnly(t *testing.T) {
	p := newProject(t, "MyApiKey")
	useTerraform(t)
	store := useSSM(t)
	store.set("/persona/_fallback/MyApiKey", "shared")

	r := mustFail(t, p, "", "deploy", "--stage", "prod", "--yes")
	assertContains(t, "deploy of prod with a fallback value only", r.stderr,
		"stage prod is missing 1 secret(s) in SSM Parameter Store; nothing was deployed",
		"go run . secrets set MyApiKey --stage prod --store ssm\n",
		"Stage prod is protected: it reads its own values only, so a fallback value does not count.")
	if strings.Contains(r.stderr, "--fallback") {
		t.Errorf("the error suggests a fallback value, which prod's functions cannot read:\n%s", r.stderr)
	}
	if len(p.synths) != 0 {
		t.Error("prod was synthesized without its own secret value")
	}
	list := mustRun(t, p, "secrets", "list", "--stage", "prod").stdout
	assertContains(t, "prod's list", list, "MyApiKey   missing", "its functions read its own values only, never the fallback")
	assertContains(t, "staging's list", mustRun(t, p, "secrets", "list", "--stage", "staging").stdout, "MyApiKey   fallback")

	store.set("/persona/prod/MyApiKey", "prod-own")
	assertContains(t, "remove of prod's value", mustRun(t, p, "secrets", "remove", "MyApiKey", "--stage", "prod").stdout,
		"the fallback does not stand in", "go run . secrets set MyApiKey --stage prod")
}

func TestSecretsListWithoutRevealReadsNoValue(t *testing.T) {
	p := newProject(t, "MyApiKey")
	store := useSSM(t)
	store.set("/persona/dev/MyApiKey", "dev-value")

	assertContains(t, "list", mustRun(t, p, "secrets", "list", "--stage", "dev").stdout, "MyApiKey   set      ********")
	for _, call := range store.calls.list() {
		if strings.Contains(call, `"WithDecryption":true`) {
			t.Errorf("list without --reveal asked SSM to decrypt: %s", call)
		}
	}
	assertContains(t, "list --reveal", mustRun(t, p, "secrets", "list", "--stage", "dev", "--reveal").stdout, "MyApiKey   set      dev-value")
}
