package promimport

import (
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/prometheus/prometheus/discovery"
	"github.com/zclconf/go-cty/cty"
	"go.yaml.in/yaml/v3"

	"github.com/vigilmon/vigil/internal/promsd"
	"github.com/vigilmon/vigil/sdk"
)

// pluginDiscovery writes the discovery block of one entry of a
// <mechanism>_sd_configs list that a first-party plugin runs with
// Prometheus's own code (plugins/discovery/PROMETHEUS.md): the entry's
// YAML fields, node, become the plugin's attributes of the same names,
// a nested block's joined with "_", a list of blocks as YAML flow
// strings, a field of another shape as YAML text. d is the entry as
// config.Load read it (a stand-in, or the real config in a program that
// links the mechanism): only its name is used.
func (c *converter) pluginDiscovery(name string, d discovery.Config, node *yaml.Node) *hclwrite.Block {
	mech := d.Name()
	c.usePlugin(mech)
	block := hclwrite.NewBlock("discovery", []string{name})
	block.Body().SetAttributeValue("plugin", cty.StringVal(mech))
	cb := block.Body().AppendNewBlock("config", nil).Body()
	fields, _ := promsd.Known(mech) // pluginSDs are all known
	c.sdFields(cb, mech, fields, nil, node)
	return block
}

// sdFields writes the fields of the YAML mapping node, at path in the
// mechanism's config, as attributes of b.
func (c *converter) sdFields(b *hclwrite.Body, mech string, fields []promsd.Field, path []string, node *yaml.Node) {
	for _, e := range entries(node) {
		p := append(slices.Clip(path), e.key)
		if e.value == nil || e.value.Tag == "!!null" {
			continue // unset: the plugin's default, which is Prometheus's
		}
		i := slices.IndexFunc(fields, func(f promsd.Field) bool { return slices.Equal(f.Path, p) })
		if i < 0 {
			if e.value.Kind == yaml.MappingNode && slices.ContainsFunc(fields, func(f promsd.Field) bool { return hasPrefix(f.Path, p) }) {
				c.sdFields(b, mech, fields, p, e.value)
				continue
			}
			c.skip(e.node, "Vigil's %s discovery plugin has no attribute for %s", mech, strings.Join(p, "."))
			continue
		}
		f := fields[i]
		v, ok := sdValue(f, e.value)
		if !ok {
			c.skip(e.node, "the value of %s does not fit the %s discovery plugin's attribute %s", strings.Join(p, "."), mech, f.Attr.Name)
			continue
		}
		b.SetAttributeValue(f.Attr.Name, v)
	}
}

func hasPrefix(path, prefix []string) bool {
	return len(path) > len(prefix) && slices.Equal(path[:len(prefix)], prefix)
}

// sdValue is the attribute value of f that the YAML node n holds.
func sdValue(f promsd.Field, n *yaml.Node) (cty.Value, bool) {
	switch f.Form {
	case promsd.YAMLList:
		if n.Kind != yaml.SequenceNode {
			return cty.NilVal, false
		}
		var out []string
		for _, item := range n.Content {
			text, ok := yamlText(item, yaml.FlowStyle)
			if !ok {
				return cty.NilVal, false
			}
			out = append(out, text)
		}
		return stringList(out), true
	case promsd.YAMLText:
		text, ok := yamlText(n, 0)
		return cty.StringVal(text), ok
	}
	switch f.Attr.Type {
	case sdk.TypeBool:
		var v bool
		if n.Kind != yaml.ScalarNode || n.Decode(&v) != nil {
			return cty.NilVal, false
		}
		return cty.BoolVal(v), true
	case sdk.TypeNumber:
		v, err := cty.ParseNumberVal(n.Value)
		return v, n.Kind == yaml.ScalarNode && err == nil
	case sdk.TypeStringList:
		var v []string
		if n.Kind != yaml.SequenceNode || n.Decode(&v) != nil {
			return cty.NilVal, false
		}
		return stringList(v), true
	case sdk.TypeStringMap:
		var v map[string]string
		if n.Kind != yaml.MappingNode || n.Decode(&v) != nil {
			return cty.NilVal, false
		}
		if len(v) == 0 {
			return cty.MapValEmpty(cty.String), true
		}
		return stringMap(v), true
	}
	return cty.StringVal(n.Value), n.Kind == yaml.ScalarNode
}

// yamlText writes n as YAML, its collections in style (flow, for one
// element of a list of blocks), without the final newline.
func yamlText(n *yaml.Node, style yaml.Style) (string, bool) {
	n = restyled(n, style)
	out, err := yaml.Marshal(n)
	if err != nil {
		return "", false
	}
	return strings.TrimSuffix(string(out), "\n"), true
}

// restyled is a copy of n with aliases resolved, no comments, and its
// mappings and sequences in style.
func restyled(n *yaml.Node, style yaml.Style) *yaml.Node {
	n = resolve(n)
	c := *n
	c.HeadComment, c.LineComment, c.FootComment = "", "", ""
	if c.Kind == yaml.MappingNode || c.Kind == yaml.SequenceNode {
		c.Style = style
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, child := range n.Content {
			c.Content[i] = restyled(child, style)
		}
	}
	return &c
}
