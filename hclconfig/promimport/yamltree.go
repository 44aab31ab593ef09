package promimport

import (
	"go.yaml.in/yaml/v3"
)

// The YAML tree is read a second time, with yaml.v3, for what config.Load
// does not keep: the line of every key and the values as written.

// entry is one key of a mapping and its value.
type entry struct {
	key   string
	node  *yaml.Node // the key, for its line
	value *yaml.Node // aliases resolved
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// entries lists the keys of a mapping in the file's order, with those a
// merge key (<<) brings in after them unless the mapping sets them
// itself, as YAML merges them. Anything but a mapping has none.
func entries(n *yaml.Node) []entry {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var own, merged []entry
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if k.Value == "<<" && k.Tag == "!!merge" {
			sources := []*yaml.Node{v}
			if v.Kind == yaml.SequenceNode {
				sources = v.Content
			}
			for _, s := range sources {
				merged = append(merged, entries(s)...)
			}
			continue
		}
		own = append(own, entry{key: k.Value, node: k, value: v})
	}
	seen := map[string]bool{}
	for _, e := range own {
		seen[e.key] = true
	}
	for _, e := range merged {
		if !seen[e.key] {
			seen[e.key] = true
			own = append(own, e)
		}
	}
	return own
}

// lookup finds key in a mapping.
func lookup(n *yaml.Node, key string) (entry, bool) {
	for _, e := range entries(n) {
		if e.key == key {
			return e, true
		}
	}
	return entry{}, false
}

// items lists the elements of a sequence, aliases resolved.
func items(n *yaml.Node) []*yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = resolve(c)
	}
	return out
}
