package terraform

import (
	"maps"
	"slices"
	"strings"
)

// Region is the AWS provider's region; "" when the stack configures none.
func (c *Config) Region() string { return c.region }

// Types lists the stack's resource types and its data sources ("data.aws_partition"), sorted.
func (c *Config) Types() []string {
	set := map[string]bool{}
	for address := range c.blocks {
		typ, _, _ := strings.Cut(address, ".")
		set[typ] = true
	}
	for _, typ := range c.dataSources {
		set["data."+typ] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// Resources returns the blocks of the stack's resources of one type, by name.
func (c *Config) Resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for address, block := range c.blocks {
		if t, name, _ := strings.Cut(address, "."); t == typ {
			out[name] = block
		}
	}
	return out
}

// Referenced returns the block of the resource that a reference such as
// "${aws_iam_role.api.arn}" names, with its type; false for anything else.
func (c *Config) Referenced(reference string) (typ string, block map[string]any, ok bool) {
	inner, found := strings.CutPrefix(reference, "${")
	if inner, found = strings.CutSuffix(inner, "}"); !found || strings.ContainsAny(inner, "${} ") {
		return "", nil, false
	}
	parts := strings.Split(inner, ".")
	if len(parts) < 2 {
		return "", nil, false
	}
	block, ok = c.blocks[parts[0]+"."+parts[1]]
	return parts[0], block, ok
}

// Literal returns a block's string argument when it is a plain value, not a reference.
func Literal(block map[string]any, argument string) (string, bool) {
	v, ok := block[argument].(string)
	return v, ok && v != "" && !strings.Contains(v, "${")
}

// Setting returns a backend argument that is a string, such as an S3 backend's bucket.
func (b Backend) Setting(name string) string {
	v, _ := b.Settings[name].(string)
	return v
}
