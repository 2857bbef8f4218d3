package secretstore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/personabackend/app/internal/localaws"
	"github.com/personabackend/app/internal/localaws/localawstest"
	"github.com/personabackend/app/resource"
	"github.com/personabackend/app/resource/secrets"
	"github.com/personabackend/app/secretstore"
	"github.com/personabackend/app/topology"
)

// moto is one SSM endpoint for the package's tests; each test names its parameters
// under an app of its own, so that none sees another's.
var (
	moto    *localaws.Server
	motoErr error
)

func TestMain(m *testing.M) {
	moto, motoErr = localaws.StartMoto(context.Background())
	code := m.Run()
	if moto != nil {
		moto.Stop()
	}
	os.Exit(code)
}

// ssmClient returns an SSM client of moto, skipping the test (failing it in CI)
// without moto.
func ssmClient(t *testing.T) *ssm.Client {
	t.Helper()
	if errors.Is(motoErr, localaws.ErrToolMissing) {
		localawstest.SkipOrFail(t, motoErr)
	}
	if motoErr != nil {
		t.Fatal(motoErr)
	}
	return ssm.NewFromConfig(localawstest.Config(), func(o *ssm.Options) { o.BaseEndpoint = aws.String(moto.Endpoint) })
}

// app names the parameters of one test: /<app>/<stage>/<name>.
func app(t *testing.T) string {
	return strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
}

func declared(app, stage string) []topology.Secret {
	return []topology.Secret{
		{Name: "MyApiKey", Parameter: "/" + app + "/" + stage + "/MyApiKey", FallbackParameter: "/" + app + "/_fallback/MyApiKey"},
		{Name: "OtherKey", Parameter: "/" + app + "/" + stage + "/OtherKey", FallbackParameter: "/" + app + "/_fallback/OtherKey"},
	}
}

// stores returns each store kind under test: local files, and SSM (moto's).
func stores(t *testing.T) map[string]secretstore.Store {
	t.Helper()
	return map[string]secretstore.Store{
		"local": secretstore.NewLocal(t.TempDir()),
		"ssm":   secretstore.NewSSM(ssmClient(t)),
	}
}

func TestLookup(t *testing.T) {
	ctx := context.Background()
	for kind, store := range stores(t) {
		t.Run(kind, func(t *testing.T) {
			a := app(t)
			if err := store.Put(ctx, map[string]string{
				"/" + a + "/dev/MyApiKey":       "dev-key",
				"/" + a + "/_fallback/MyApiKey": "shared-key",
				"/" + a + "/_fallback/OtherKey": "shared-other",
			}); err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				name  string
				stage string
				want  []secretstore.Value
			}{
				{"a stage's own value wins over the fallback", "dev", []secretstore.Value{
					{Name: "MyApiKey", Value: "dev-key", Source: secretstore.Stage},
					{Name: "OtherKey", Value: "shared-other", Source: secretstore.Fallback},
				}},
				{"a stage without its own values gets the fallback values", "staging", []secretstore.Value{
					{Name: "MyApiKey", Value: "shared-key", Source: secretstore.Fallback},
					{Name: "OtherKey", Value: "shared-other", Source: secretstore.Fallback},
				}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got, err := secretstore.Lookup(ctx, store, declared(a, tt.stage))
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got, tt.want) {
						t.Errorf("Lookup = %+v, want %+v", got, tt.want)
					}
				})
			}
		})
	}
}

func TestSourcesTellWhereEachValueComesFromWithoutReadingIt(t *testing.T) {
	ctx := context.Background()
	for kind, store := range stores(t) {
		t.Run(kind, func(t *testing.T) {
			a := app(t)
			if err := store.Put(ctx, map[string]string{
				"/" + a + "/dev/MyApiKey":       "dev-key",
				"/" + a + "/_fallback/OtherKey": "shared-other",
			}); err != nil {
				t.Fatal(err)
			}
			ownOnly := declared(a, "prod")
			for i := range ownOnly {
				ownOnly[i].FallbackParameter = ""
			}
			tests := []struct {
				name    string
				secrets []topology.Secret
				want    []secretstore.Value
			}{
				{"the stage's own value, else the fallback", declared(a, "dev"), []secretstore.Value{
					{Name: "MyApiKey", Source: secretstore.Stage},
					{Name: "OtherKey", Source: secretstore.Fallback},
				}},
				{"secrets without a fallback are missing without their own value", ownOnly, []secretstore.Value{
					{Name: "MyApiKey", Source: secretstore.Missing},
					{Name: "OtherKey", Source: secretstore.Missing},
				}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got, err := secretstore.Sources(ctx, store, tt.secrets)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got, tt.want) {
						t.Errorf("Sources = %+v, want %+v", got, tt.want)
					}
				})
			}
		})
	}
}

// decryptions records whether each GetParameters call asked SSM to decrypt.
type decryptions struct {
	secretstore.SSMClient
	asked []bool
}

func (d *decryptions) GetParameters(ctx context.Context, in *ssm.GetParametersInput, optFns ...func(*ssm.Options)) (*ssm.GetParametersOutput, error) {
	d.asked = append(d.asked, aws.ToBool(in.WithDecryption))
	return d.SSMClient.GetParameters(ctx, in, optFns...)
}

func TestSSMPresenceNeverAsksForDecryption(t *testing.T) {
	ctx := context.Background()
	client := &decryptions{SSMClient: ssmClient(t)}
	store := secretstore.NewSSM(client)
	a := app(t)
	var secrets []topology.Secret
	values := map[string]string{}
	for i := range 12 {
		name := string(rune('A'+i)) + "Key"
		param := "/" + a + "/dev/" + name
		secrets = append(secrets, topology.Secret{Name: name, Parameter: param})
		values[param] = "value-" + name
	}
	if err := store.Put(ctx, values); err != nil {
		t.Fatal(err)
	}
	got, err := secretstore.Sources(ctx, store, secrets)
	if err != nil {
		t.Fatal(err)
	}
	if missing := secretstore.MissingNames(got); len(missing) != 0 {
		t.Errorf("missing %v, want all 12 found", missing)
	}
	if !reflect.DeepEqual(client.asked, []bool{false, false}) {
		t.Errorf("GetParameters calls asked for decryption %v, want two batches that never did", client.asked)
	}
}

func TestDeleteReportsWhetherTheValueWasSet(t *testing.T) {
	ctx := context.Background()
	for kind, store := range stores(t) {
		t.Run(kind, func(t *testing.T) {
			a := app(t)
			param := "/" + a + "/dev/MyApiKey"
			if err := store.Put(ctx, map[string]string{param: "v"}); err != nil {
				t.Fatal(err)
			}
			if found, err := store.Delete(ctx, param); err != nil || !found {
				t.Fatalf("first Delete = %v, %v; want true, nil", found, err)
			}
			if found, err := store.Delete(ctx, param); err != nil || found {
				t.Fatalf("second Delete = %v, %v; want false, nil", found, err)
			}
			values, err := secretstore.Lookup(ctx, store, declared(a, "dev"))
			if err != nil {
				t.Fatal(err)
			}
			if got := secretstore.MissingNames(values); !reflect.DeepEqual(got, []string{"MyApiKey", "OtherKey"}) {
				t.Errorf("missing after delete = %v", got)
			}
		})
	}
}

func TestSSMGetsMoreThanTenParametersInBatches(t *testing.T) {
	ctx := context.Background()
	store := secretstore.NewSSM(ssmClient(t))
	a := app(t)
	var secrets []topology.Secret
	values := map[string]string{}
	for i := range 23 {
		name := string(rune('A'+i)) + "Key"
		param := "/" + a + "/dev/" + name
		secrets = append(secrets, topology.Secret{Name: name, Parameter: param, FallbackParameter: "/" + a + "/_fallback/" + name})
		values[param] = "value-" + name
	}
	if err := store.Put(ctx, values); err != nil {
		t.Fatal(err)
	}
	got, err := secretstore.Lookup(ctx, store, secrets)
	if err != nil {
		t.Fatal(err)
	}
	if missing := secretstore.MissingNames(got); len(missing) != 0 {
		t.Errorf("missing %v, want all 23 found", missing)
	}
}

// SSM refuses parameter names that start with "ssm" (or "aws"): the write of
// /ssm/CKey fails as any refused write would.
func TestSSMPutWritesInNameOrderAndAFailureNamesWhatWasWritten(t *testing.T) {
	ctx := context.Background()
	client := ssmClient(t)
	a := app(t)
	// In name order: two parameters, the refused one, and one after it.
	written := []string{"/a-" + a + "/AKey", "/a-" + a + "/BKey"}
	refused, after := "/ssm/"+a+"/CKey", "/z-"+a+"/DKey"

	err := secretstore.NewSSM(client).Put(ctx, map[string]string{
		after: "value-d", written[1]: "value-b", refused: "value-c", written[0]: "value-a",
	})
	if err == nil {
		t.Fatal("Put succeeded, want the error of " + refused)
	}
	for _, want := range []string{
		"writing SSM parameter " + refused,
		"already written: " + strings.Join(written, ", ") + "\n",
		"not written: " + refused + ", " + after,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "value-") {
		t.Errorf("error shows a value:\n%v", err)
	}
	out, err := client.GetParameters(ctx, &ssm.GetParametersInput{Names: append(written, after), WithDecryption: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	for _, p := range out.Parameters {
		stored = append(stored, aws.ToString(p.Name))
	}
	sort.Strings(stored)
	if !reflect.DeepEqual(stored, written) {
		t.Errorf("SSM holds %v, want %v", stored, written)
	}
}

func TestSSMStoresSecureStringsThatFunctionsCanRead(t *testing.T) {
	ctx := context.Background()
	client := ssmClient(t)
	a := app(t)
	fallback := "/" + a + "/_fallback/MyApiKey"
	if err := secretstore.NewSSM(client).Put(ctx, map[string]string{fallback: "shared-key"}); err != nil {
		t.Fatal(err)
	}
	out, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(fallback)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Parameter.Type != ssmtypes.ParameterTypeSecureString || aws.ToString(out.Parameter.Value) == "shared-key" {
		t.Errorf("parameter is %s %q, want a SecureString, encrypted when read without decryption", out.Parameter.Type, aws.ToString(out.Parameter.Value))
	}

	t.Setenv(resource.EnvName("MyApiKey"), `{"kind":"secret","parameter":"/`+a+`/dev/MyApiKey","fallbackParameter":"`+fallback+`"}`)
	got, err := secrets.NewLoader(client).Get(ctx, "MyApiKey")
	if err != nil || got != "shared-key" {
		t.Errorf("function reads %q, %v; want the fallback value", got, err)
	}
}

func TestLocalFilesAreOwnerOnlyAndOnePerStage(t *testing.T) {
	dir := t.TempDir()
	store := secretstore.NewLocal(dir)
	if err := store.Put(context.Background(), map[string]string{
		"/persona/dev/MyApiKey":     "dev-key",
		"/persona/staging/MyApiKey": "staging-key",
	}); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"persona/dev.json", "persona/staging.json"} {
		info, err := os.Stat(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has permissions %v, want 0600", file, perm)
		}
	}
}

func TestLocalRefusesParametersOutsideItsFolder(t *testing.T) {
	store := secretstore.NewLocal(t.TempDir())
	for _, param := range []string{"relative/dev/Key", "/persona/../../etc/Key", "/Key", "/persona/dev/"} {
		if err := store.Put(context.Background(), map[string]string{param: "v"}); err == nil {
			t.Errorf("Put(%q) succeeded, want an error", param)
		}
	}
}
