package terraform

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Config is what the tool reads from a synthesized stack's Terraform JSON itself,
// without terraform: where the stack keeps its state, its AWS region, and each
// resource's block.
type Config struct {
	dir     string
	backend map[string]json.RawMessage
	// blocks holds each managed resource's block by address ("aws_sqs_queue.dlq").
	blocks map[string]map[string]any
	// region is the AWS provider's region; "" when the stack configures none.
	region string
	// dataSources are the types of the stack's data sources, e.g. "aws_partition".
	dataSources []string
}

// ReadConfig reads the stack in dir (its StackFile).
func ReadConfig(dir string) (*Config, error) {
	path := filepath.Join(dir, StackFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the synthesized stack: %w", err)
	}
	var doc struct {
		Terraform struct {
			Backend map[string]json.RawMessage `json:"backend"`
		} `json:"terraform"`
		Provider struct {
			AWS []struct {
				Region string `json:"region"`
			} `json:"aws"`
		} `json:"provider"`
		Resource map[string]map[string]map[string]any  `json:"resource"`
		Data     map[string]map[string]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", path, err)
	}
	c := &Config{dir: dir, backend: doc.Terraform.Backend, blocks: map[string]map[string]any{},
		dataSources: slices.Sorted(maps.Keys(doc.Data))}
	if len(doc.Provider.AWS) > 0 {
		c.region = doc.Provider.AWS[0].Region
	}
	for typ, byName := range doc.Resource {
		for name, block := range byName {
			c.blocks[typ+"."+name] = block
		}
	}
	return c, nil
}

// Block returns the configuration block of the managed resource at address; an
// instance address ("aws_sqs_queue.q[0]") gives its resource's block. It is false
// when the configuration has no such resource, as for one whose block was removed.
func (c *Config) Block(address string) (map[string]any, bool) {
	if i := strings.IndexByte(address, '['); i >= 0 {
		address = address[:i]
	}
	block, ok := c.blocks[address]
	return block, ok
}

// Backend is where a stack keeps its Terraform state.
type Backend struct {
	// Type is the backend's type: "local" (also when the stack names none), "s3", ...
	Type string
	// StateFile is a local backend's state file, as an absolute path.
	StateFile string
	// Locked says that runs of a remote backend take a lock (for S3: a DynamoDB lock
	// table, dynamodb_table, or a lock file, use_lockfile), so two cannot write at once.
	Locked bool
	// Settings are the backend's arguments, such as bucket, key and region.
	Settings map[string]any
}

// Local reports whether the state is a file on this machine.
func (b Backend) Local() bool { return b.Type == "local" }

// Backend returns where the stack keeps its state.
func (c *Config) Backend() (Backend, error) {
	// Terraform allows one backend block.
	for typ, raw := range c.backend {
		settings := map[string]any{}
		if err := json.Unmarshal(raw, &settings); err != nil {
			return Backend{}, fmt.Errorf("decoding the %s backend of %s: %w", typ, filepath.Join(c.dir, StackFile), err)
		}
		if typ == "local" {
			return c.localBackend(settings)
		}
		locked := typ != "s3" || settings["dynamodb_table"] != nil || settings["use_lockfile"] == true
		return Backend{Type: typ, Locked: locked, Settings: settings}, nil
	}
	// Without a backend block terraform keeps terraform.tfstate in the stack's folder.
	return c.localBackend(map[string]any{})
}

func (c *Config) localBackend(settings map[string]any) (Backend, error) {
	path, _ := settings["path"].(string)
	if path == "" {
		path = "terraform.tfstate"
	}
	if !filepath.IsAbs(path) {
		// Terraform runs in the stack's folder, so a relative path starts there.
		path = filepath.Join(c.dir, filepath.FromSlash(path))
	}
	path, err := filepath.Abs(path)
	if err != nil {
		return Backend{}, err
	}
	return Backend{Type: "local", StateFile: path, Locked: true, Settings: settings}, nil
}
