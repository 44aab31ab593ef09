package hclconfig

import (
	"bytes"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// The tables of README.md, the reference, are made from the schema:
// between the lines <!-- begin schema NAME --> and <!-- end schema NAME
// -->, the attributes and nested blocks of the top-level block NAME, or of
// the file itself for NAME "file". TestReference keeps them so.

// spec is what the reference reads of a block description.
type spec interface {
	describe() specDoc
}

// specDoc describes a block for the reference.
type specDoc struct {
	name, label, doc string
	attrs            []attrDoc
	nested           []nestedDoc
	// content identifies the attributes: blocks of several types with
	// the same content, such as relabel and metric_relabel, have the same.
	content any
}

type attrDoc struct {
	name, kind, def, doc string
	required             bool
}

type nestedDoc struct {
	spec     spec
	repeated bool
}

func (b *block[T]) describe() specDoc {
	sd := specDoc{name: b.name, label: b.label, doc: b.doc, content: b.name}
	if len(b.attrs) > 0 {
		sd.content = &b.attrs[0]
	}
	for _, a := range b.attrs {
		doc := a.doc
		if a.only != nil {
			doc += " " + a.only.doc
		}
		sd.attrs = append(sd.attrs, attrDoc{name: a.name, kind: a.kind, def: a.def, doc: doc, required: a.required})
	}
	for _, c := range b.children {
		for _, s := range c.specs() {
			sd.nested = append(sd.nested, nestedDoc{spec: s, repeated: c.repeated()})
		}
	}
	return sd
}

// referenceMarker finds the marked regions of the reference.
var referenceMarker = regexp.MustCompile(`(?s)(<!-- begin schema ([a-z_]+) -->\n).*?(<!-- end schema ([a-z_]+) -->)`)

// withReferenceTables returns readme with the table of each marked region
// made anew from the schema. Every top-level block must have a region.
func withReferenceTables(readme []byte) ([]byte, error) {
	tables := map[string]string{"file": referenceTable(configSpec.describe())}
	for _, c := range configSpec.children {
		for _, s := range c.specs() {
			sd := s.describe()
			tables[sd.name] = referenceTables(sd)
		}
	}
	var errs []string
	seen := map[string]bool{}
	out := referenceMarker.ReplaceAllFunc(readme, func(m []byte) []byte {
		sub := referenceMarker.FindSubmatch(m)
		begin, name, end, endName := sub[1], string(sub[2]), sub[3], string(sub[4])
		table, ok := tables[name]
		switch {
		case name != endName:
			errs = append(errs, fmt.Sprintf("the region of %s ends as %s's", name, endName))
		case !ok:
			errs = append(errs, fmt.Sprintf("%s is not a top-level block", name))
		case seen[name]:
			errs = append(errs, fmt.Sprintf("%s has two regions", name))
		}
		seen[name] = true
		return bytes.Join([][]byte{begin, []byte(table), end}, nil)
	})
	for _, name := range slices.Sorted(maps.Keys(tables)) {
		if !seen[name] {
			errs = append(errs, fmt.Sprintf("no region <!-- begin schema %s --> for the %s block", name, name))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("README.md: %s", strings.Join(errs, "; "))
	}
	return out, nil
}

// referenceTables is the table of a top-level block, then those of the
// blocks nested in it, each content once.
func referenceTables(top specDoc) string {
	var b strings.Builder
	b.WriteString(referenceTable(top))
	shown := map[any]bool{top.content: true}
	var walk func(sd specDoc)
	walk = func(sd specDoc) {
		var order []any
		names := map[any][]string{}
		docs := map[any]specDoc{}
		for _, n := range sd.nested {
			nd := n.spec.describe()
			if shown[nd.content] {
				continue
			}
			if _, ok := docs[nd.content]; !ok {
				order = append(order, nd.content)
				docs[nd.content] = nd
			}
			names[nd.content] = append(names[nd.content], "`"+nd.name+"`")
		}
		for _, k := range order {
			shown[k] = true
			nd := docs[k]
			if len(nd.attrs) == 0 && len(nd.nested) == 0 {
				continue
			}
			fmt.Fprintf(&b, "\n%s:\n\n", strings.Join(names[k], " and "))
			b.WriteString(referenceTable(nd))
			walk(nd)
		}
	}
	walk(top)
	return b.String()
}

// referenceTable is the table of a block's attributes and nested blocks.
func referenceTable(sd specDoc) string {
	var b strings.Builder
	b.WriteString("| Attribute | Type | Default | |\n|---|---|---|---|\n")
	for _, a := range sd.attrs {
		def := a.def
		switch {
		case a.required:
			def = "required"
		case strings.HasPrefix(def, `"`) || strings.HasPrefix(def, "[") || def == "true" || def == "false" || isNumber(def):
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", a.name, a.kind, def, a.doc)
	}
	for _, n := range sd.nested {
		nd := n.spec.describe()
		header := nd.name
		if nd.label != "" {
			header += ` "` + nd.label + `"`
		}
		kind := "block"
		if n.repeated {
			kind = "blocks"
		}
		fmt.Fprintf(&b, "| `%s {}` | %s | | %s |\n", header, kind, nd.doc)
	}
	return b.String()
}

func isNumber(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
