package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/personabackend/app/build"
	"github.com/personabackend/app/internal/awsconfig"
	"github.com/personabackend/app/secretstore"
)

// StoreEnv selects the secret store when --store is not given.
const StoreEnv = "SECRETS_STORE"

// Secret store kinds.
const (
	storeSSM   = "ssm"
	storeLocal = "local"
)

// LocalStage is the stage whose secrets live in the local store by default: the one the
// dev mode runs on this machine.
const LocalStage = "local"

// storeKind picks the store: --store, else $SECRETS_STORE, else local for the local stage
// and SSM for every stage that is deployed.
func storeKind(flagValue, stage string) (string, error) {
	kind := flagValue
	if kind == "" {
		kind = os.Getenv(StoreEnv)
	}
	if kind == "" {
		if stage == LocalStage {
			return storeLocal, nil
		}
		return storeSSM, nil
	}
	if kind != storeSSM && kind != storeLocal {
		return "", usagef("unknown secret store %q: use --store ssm or --store local", kind)
	}
	return kind, nil
}

// openStore returns the store of the given kind and a description of it for messages.
func openStore(ctx context.Context, kind string) (secretstore.Store, string, error) {
	if kind == storeLocal {
		root, err := build.ModuleRoot(".")
		if err != nil {
			return nil, "", err
		}
		return secretstore.NewLocal(filepath.Join(root, secretstore.LocalDir)), "the local store (" + secretstore.LocalDir + "/)", nil
	}
	cfg, err := awsConfig(ctx)
	if err != nil {
		return nil, "", err
	}
	return secretstore.NewSSM(ssm.NewFromConfig(cfg)), "SSM Parameter Store", nil
}

// credentialsTimeout bounds the search for credentials, which may reach the network
// (SSO, or instance metadata where asked for).
const credentialsTimeout = 10 * time.Second

// errNoCredentials is the advice shown when the SDK finds no usable AWS credentials.
var errNoCredentials = errors.New("no AWS credentials found. Configure them, then run the command again:\n" +
	"    export AWS_PROFILE=NAME        use a profile from ~/.aws/config\n" +
	"    aws configure                  save an access key for the default profile\n" +
	"    aws sso login --profile NAME   sign in to a profile that uses IAM Identity Center (SSO)")

// awsConfig loads the AWS configuration (the region as synth resolves it) and checks
// that it yields credentials.
func awsConfig(ctx context.Context) (aws.Config, error) {
	cfg, err := awsconfig.Load(ctx)
	if err != nil {
		return aws.Config{}, err
	}
	rctx, cancel := context.WithTimeout(ctx, credentialsTimeout)
	defer cancel()
	if _, err := cfg.Credentials.Retrieve(rctx); err != nil {
		return aws.Config{}, fmt.Errorf("%w\n(the SDK said: %v)", errNoCredentials, err)
	}
	return cfg, nil
}
