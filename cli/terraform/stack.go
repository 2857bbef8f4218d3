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

// Stack is a synthesized stack's Terraform JSON, read without terraform: its region,
// its resources' blocks and where it keeps its state.
type Stack struct {
	// Region is the AWS provider's region.
	Region string
	// Resources holds each managed resource's block, by type and name.
	Resources map[string]map[string]map[string]any
	// DataSources are the types of the stack's data sources, e.g. "aws_partition".
	DataSources []string
	Backend     StackBackend
}

// StackBackend is the stack's backend block: its type ("local", "s3", ...) and, for S3,
// where the state and its lock are.
type StackBackend struct {
	Type      string
	Path      string `json:"path"` // a local backend's state file, relative to the stack's folder
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	Region    string `json:"region"` // the bucket's; the stack's region when the block names none
	LockTable string `json:"dynamodb_table"`
}

// ReadStack reads the stack in dir (its StackFile).
func ReadStack(dir string) (*Stack, error) {
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
	if len(doc.Provider.AWS) == 0 || doc.Provider.AWS[0].Region == "" {
		return nil, fmt.Errorf("%s configures no AWS provider region", path)
	}
	s := &Stack{Region: doc.Provider.AWS[0].Region, Resources: doc.Resource, DataSources: slices.Sorted(maps.Keys(doc.Data))}
	if s.Resources == nil {
		s.Resources = map[string]map[string]map[string]any{}
	}
	s.Backend.Type = "local" // without a backend block terraform keeps a local state
	for typ, raw := range doc.Terraform.Backend {
		if err := json.Unmarshal(raw, &s.Backend); err != nil {
			return nil, fmt.Errorf("decoding the %s backend of %s: %w", typ, path, err)
		}
		s.Backend.Type = typ
	}
	if s.Backend.Region == "" {
		s.Backend.Region = s.Region
	}
	return s, nil
}

// Types lists the stack's resource types and its data sources ("data.aws_partition"), sorted.
func (s *Stack) Types() []string {
	types := slices.Collect(maps.Keys(s.Resources))
	for _, typ := range s.DataSources {
		types = append(types, "data."+typ)
	}
	slices.Sort(types)
	return types
}

// Referenced returns the block of the resource that a reference such as
// "${aws_iam_role.api.arn}" names, with its type; false for anything else.
func (s *Stack) Referenced(reference string) (typ string, block map[string]any, ok bool) {
	inner, found := strings.CutPrefix(reference, "${")
	if inner, found = strings.CutSuffix(inner, "}"); !found || strings.ContainsAny(inner, "${} ") {
		return "", nil, false
	}
	parts := strings.Split(inner, ".")
	if len(parts) < 2 {
		return "", nil, false
	}
	block, ok = s.Resources[parts[0]][parts[1]]
	return parts[0], block, ok
}

// Literal returns a block's string argument when it is a plain value, not a reference.
func Literal(block map[string]any, argument string) (string, bool) {
	v, ok := block[argument].(string)
	return v, ok && v != "" && !strings.Contains(v, "${")
}
