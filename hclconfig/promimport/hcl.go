package promimport

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/prometheus/common/model"
	"github.com/zclconf/go-cty/cty"
)

// value is a string attribute as the HCL writes it: a literal, or the
// content of a file read with file(), as Prometheus's *_file settings
// read it.
type value struct {
	lit  string
	file string
	set  bool
}

func literal(s string) value  { return value{lit: s, set: s != ""} }
func fromFile(p string) value { return value{file: p, set: p != ""} }

// tokens writes the value as an expression.
func (v value) tokens() hclwrite.Tokens {
	if v.file != "" {
		return hclwrite.TokensForFunctionCall("file", hclwrite.TokensForValue(cty.StringVal(v.file)))
	}
	return hclwrite.TokensForValue(cty.StringVal(v.lit))
}

func setValue(b *hclwrite.Body, name string, v value) {
	if v.set {
		b.SetAttributeRaw(name, v.tokens())
	}
}

func durationVal(d time.Duration) cty.Value { return cty.StringVal(model.Duration(d).String()) }

func stringMap(m map[string]string) cty.Value {
	values := make(map[string]cty.Value, len(m))
	for k, v := range m {
		values[k] = cty.StringVal(v)
	}
	return cty.MapVal(values)
}

func stringList(ss []string) cty.Value {
	if len(ss) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vals := make([]cty.Value, len(ss))
	for i, s := range ss {
		vals[i] = cty.StringVal(s)
	}
	return cty.ListVal(vals)
}

// sizeString writes a size in the largest unit of 1024 that divides it,
// as Vigil's sizes are written ("10MB" is 10 MiB, as in Prometheus).
func sizeString(n int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"TB", 1 << 40}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}} {
		if n != 0 && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// objectTokens writes a map of expressions as an object, keys sorted.
func objectTokens(m map[string]hclwrite.Tokens) hclwrite.Tokens {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	attrs := make([]hclwrite.ObjectAttrTokens, len(keys))
	for i, k := range keys {
		name := hclwrite.TokensForValue(cty.StringVal(k))
		if hclsyntax.ValidIdentifier(k) {
			name = hclwrite.TokensForIdentifier(k)
		}
		attrs[i] = hclwrite.ObjectAttrTokens{Name: name, Value: m[k]}
	}
	return hclwrite.TokensForObject(attrs)
}

// expandedTokens writes a string in which Prometheus expands environment
// variables ($NAME, ${NAME}; $$ is a $), as it does in external labels:
// each variable becomes env("NAME"), the rest stays literal. It says
// whether the string refers to any variable.
func expandedTokens(s string) (hclwrite.Tokens, bool) {
	if !strings.Contains(s, "$") || strings.Contains(s, "\x00") {
		return hclwrite.TokensForValue(cty.StringVal(s)), false
	}
	// os.Expand is how Prometheus reads them; each variable is marked
	// with a NUL here and its name kept aside.
	var names []string
	marked := os.Expand(s, func(name string) string {
		if name == "$" {
			return "$"
		}
		names = append(names, name)
		return "\x00"
	})
	if len(names) == 0 {
		return hclwrite.TokensForValue(cty.StringVal(marked)), false
	}
	lits := strings.Split(marked, "\x00")
	if len(names) == 1 && lits[0] == "" && lits[1] == "" {
		return envCall(names[0]), true
	}
	toks := hclwrite.Tokens{{Type: hclsyntax.TokenOQuote, Bytes: []byte(`"`)}}
	for i, lit := range lits {
		if lit != "" {
			quoted := hclwrite.TokensForValue(cty.StringVal(lit))
			toks = append(toks, quoted[1:len(quoted)-1]...) // without the quotes
		}
		if i < len(names) {
			toks = append(toks, &hclwrite.Token{Type: hclsyntax.TokenTemplateInterp, Bytes: []byte("${")})
			toks = append(toks, envCall(names[i])...)
			toks = append(toks, &hclwrite.Token{Type: hclsyntax.TokenTemplateSeqEnd, Bytes: []byte("}")})
		}
	}
	return append(toks, &hclwrite.Token{Type: hclsyntax.TokenCQuote, Bytes: []byte(`"`)}), true
}

func envCall(name string) hclwrite.Tokens {
	return hclwrite.TokensForFunctionCall("env", hclwrite.TokensForValue(cty.StringVal(name)))
}

// comment writes a line comment into b.
func comment(b *hclwrite.Body, text string) {
	b.AppendUnstructuredTokens(hclwrite.Tokens{{Type: hclsyntax.TokenComment, Bytes: []byte("# " + text + "\n")}})
}
