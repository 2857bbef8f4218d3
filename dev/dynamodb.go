package dev

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/personabackend/app/internal/localaws"
	"github.com/personabackend/app/topology"
)

// toolPath finds a local tool: its environment override, else its place under root.
func toolPath(tool localaws.Tool, root string) (string, error) {
	if p := os.Getenv(tool.EnvVar); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s: %s=%s: %w (unset it or run `make tools`)", tool.Name, tool.EnvVar, p, localaws.ErrToolMissing)
		}
		return p, nil
	}
	p := filepath.Join(root, tool.InRepo)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s: not found at %s: %w; install it with `make tools` or point %s at it", tool.Name, p, localaws.ErrToolMissing, tool.EnvVar)
	}
	return p, nil
}

// dynalite is a running dynalite that keeps its data in a folder.
type dynalite struct {
	endpoint string
	cmd      *exec.Cmd
	done     chan struct{}
	output   *lineBuffer
}

// startDynalite starts dynalite on a free loopback port with its data under dataDir.
func startDynalite(ctx context.Context, root, dataDir string) (*dynalite, error) {
	cli, err := toolPath(localaws.DynaliteTool, root)
	if err != nil {
		return nil, err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("dynalite needs node on PATH (install Node.js 20): %w", localaws.ErrToolMissing)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dataDir, err)
	}
	var lastErr error
	for range 3 {
		port, err := localaws.FreePort()
		if err != nil {
			return nil, err
		}
		d := &dynalite{endpoint: "http://127.0.0.1:" + strconv.Itoa(port), done: make(chan struct{}), output: &lineBuffer{}}
		d.cmd = exec.Command(node, cli, "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--path", dataDir,
			"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
		d.cmd.Stdout, d.cmd.Stderr = d.output, d.output
		d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := d.cmd.Start(); err != nil {
			return nil, fmt.Errorf("starting dynalite: %w", err)
		}
		go func() {
			_ = d.cmd.Wait()
			close(d.done)
		}()
		if err := waitListening(ctx, "127.0.0.1:"+strconv.Itoa(port), d.done, 15*time.Second); err != nil {
			d.stop()
			lastErr = fmt.Errorf("dynalite on port %d: %w; its output:\n%s", port, err, d.output.String())
			continue
		}
		return d, nil
	}
	return nil, lastErr
}

func (d *dynalite) stop() {
	_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
	<-d.done
}

// createTables creates the stack's tables that dynalite does not hold yet and waits
// until all are active. Tables kept from an earlier run are left as they are.
func createTables(ctx context.Context, client *dynamodb.Client, tables []topology.Table) error {
	for _, t := range tables {
		in, err := createTableInput(t)
		if err != nil {
			return err
		}
		_, err = client.CreateTable(ctx, in)
		var inUse *types.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) {
			return fmt.Errorf("creating table %s: %w", t.Name, err)
		}
		waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
			o.MinDelay = 50 * time.Millisecond
			o.MaxDelay = 200 * time.Millisecond
		})
		if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(t.Name)}, 30*time.Second); err != nil {
			return fmt.Errorf("waiting for table %s: %w", t.Name, err)
		}
	}
	return nil
}

func createTableInput(t topology.Table) (*dynamodb.CreateTableInput, error) {
	used := map[string]bool{}
	key := func(hash, rng string) []types.KeySchemaElement {
		used[hash] = true
		ks := []types.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash}}
		if rng != "" {
			used[rng] = true
			ks = append(ks, types.KeySchemaElement{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange})
		}
		return ks
	}
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(t.Name),
		KeySchema:   key(t.HashKey, t.RangeKey),
		BillingMode: types.BillingModePayPerRequest,
	}
	for _, ix := range t.GlobalIndexes {
		gsi := types.GlobalSecondaryIndex{
			IndexName:  aws.String(ix.Name),
			KeySchema:  key(ix.HashKey, ix.RangeKey),
			Projection: &types.Projection{ProjectionType: types.ProjectionType(ix.Projection)},
		}
		if ix.Projection == string(types.ProjectionTypeInclude) {
			gsi.Projection.NonKeyAttributes = ix.NonKeyAttributes
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, gsi)
	}
	// DynamoDB refuses attribute definitions that no key uses.
	for name := range used {
		typ, ok := map[string]types.ScalarAttributeType{
			"string": types.ScalarAttributeTypeS, "number": types.ScalarAttributeTypeN, "binary": types.ScalarAttributeTypeB,
		}[t.Fields[name]]
		if !ok {
			return nil, fmt.Errorf("table %s: key attribute %q has no field type (string, number or binary)", t.Name, name)
		}
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: typ})
	}
	return in, nil
}
