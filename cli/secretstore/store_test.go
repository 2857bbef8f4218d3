package secretstore_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/personabackend/app/cli/internal/ssmtest"
	"github.com/personabackend/app/cli/secretstore"
	"github.com/personabackend/app/resource"
	"github.com/personabackend/app/resource/secrets"
	"github.com/personabackend/app/topology"
)

func declared(stage string) []topology.Secret {
	return []topology.Secret{
		{Name: "MyApiKey", Parameter: "/persona/" + stage + "/MyApiKey", FallbackParameter: "/persona/_fallback/MyApiKey"},
		{Name: "OtherKey", Parameter: "/persona/" + stage + "/OtherKey", FallbackParameter: "/persona/_fallback/OtherKey"},
	}
}

// stores returns each store kind, freshly made, under test.
func stores(t *testing.T) map[string]secretstore.Store {
	t.Helper()
	double := ssmtest.Start(t)
	client := ssm.New(ssm.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(double.URL),
		Credentials:  aws.AnonymousCredentials{},
	})
	return map[string]secretstore.Store{
		"local": secretstore.NewLocal(t.TempDir()),
		"ssm":   secretstore.NewSSM(client),
	}
}

func TestLookup(t *testing.T) {
	ctx := context.Background()
	for kind, store := range stores(t) {
		t.Run(kind, func(t *testing.T) {
			if err := store.Put(ctx, map[string]string{
				"/persona/dev/MyApiKey":       "dev-key",
				"/persona/_fallback/MyApiKey": "shared-key",
				"/persona/_fallback/OtherKey": "shared-other",
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
					got, err := secretstore.Lookup(ctx, store, declared(tt.stage))
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

func TestDeleteReportsWhetherTheValueWasSet(t *testing.T) {
	ctx := context.Background()
	for kind, store := range stores(t) {
		t.Run(kind, func(t *testing.T) {
			if err := store.Put(ctx, map[string]string{"/persona/dev/MyApiKey": "v"}); err != nil {
				t.Fatal(err)
			}
			if found, err := store.Delete(ctx, "/persona/dev/MyApiKey"); err != nil || !found {
				t.Fatalf("first Delete = %v, %v; want true, nil", found, err)
			}
			if found, err := store.Delete(ctx, "/persona/dev/MyApiKey"); err != nil || found {
				t.Fatalf("second Delete = %v, %v; want false, nil", found, err)
			}
			values, err := secretstore.Lookup(ctx, store, declared("dev"))
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
	store := stores(t)["ssm"]
	var secrets []topology.Secret
	values := map[string]string{}
	for i := range 23 {
		name := string(rune('A'+i)) + "Key"
		param := "/persona/dev/" + name
		secrets = append(secrets, topology.Secret{Name: name, Parameter: param, FallbackParameter: "/persona/_fallback/" + name})
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

func TestSSMPutWritesInNameOrderAndAFailureNamesWhatWasWritten(t *testing.T) {
	ctx := context.Background()
	double := ssmtest.Start(t)
	client := ssm.New(ssm.Options{Region: "us-east-1", BaseEndpoint: aws.String(double.URL), Credentials: aws.AnonymousCredentials{}})
	double.FailPut("/persona/dev/CKey")

	err := secretstore.NewSSM(client).Put(ctx, map[string]string{
		"/persona/dev/DKey": "value-d",
		"/persona/dev/BKey": "value-b",
		"/persona/dev/CKey": "value-c",
		"/persona/dev/AKey": "value-a",
	})
	if err == nil {
		t.Fatal("Put succeeded, want the error of CKey")
	}
	for _, want := range []string{
		"writing SSM parameter /persona/dev/CKey",
		"already written: /persona/dev/AKey, /persona/dev/BKey\n",
		"not written: /persona/dev/CKey, /persona/dev/DKey",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "value-") {
		t.Errorf("error shows a value:\n%v", err)
	}
	var stored []string
	for name := range double.Parameters() {
		stored = append(stored, name)
	}
	sort.Strings(stored)
	if want := []string{"/persona/dev/AKey", "/persona/dev/BKey"}; !reflect.DeepEqual(stored, want) {
		t.Errorf("SSM holds %v, want %v", stored, want)
	}
}

func TestSSMStoresSecureStringsThatFunctionsCanRead(t *testing.T) {
	ctx := context.Background()
	double := ssmtest.Start(t)
	client := ssm.New(ssm.Options{Region: "us-east-1", BaseEndpoint: aws.String(double.URL), Credentials: aws.AnonymousCredentials{}})
	if err := secretstore.NewSSM(client).Put(ctx, map[string]string{"/persona/_fallback/MyApiKey": "shared-key"}); err != nil {
		t.Fatal(err)
	}
	if got := double.Parameters()["/persona/_fallback/MyApiKey"].Type; got != "SecureString" {
		t.Errorf("parameter type = %q, want SecureString", got)
	}

	t.Setenv(resource.EnvName("MyApiKey"), `{"kind":"secret","parameter":"/persona/dev/MyApiKey","fallbackParameter":"/persona/_fallback/MyApiKey"}`)
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
