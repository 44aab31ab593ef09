package hclconfig

import (
	"reflect"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// The configuration's schema is data. A block[T] describes one type of
// block once: each attribute with its name, type, default and line of
// documentation, bound to the field of T it fills (attr[T], made by field,
// withDefault or accessor), and the blocks nested in it (child[T]). Its
// decode method reads a body into a T, render writes a T back in the
// canonical format, and reference.go makes the reference's tables of it.
// What one attribute cannot say alone, such as a reference to another
// block or a limit across attributes, is the block's check.

// renderOptions say how a configuration is written.
type renderOptions struct {
	// secrets writes secrets as they are. Otherwise they show as
	// "<secret>", and the passwords in URLs as "xxxxx".
	secrets bool
	// baseDir is the folder of the configuration file: paths that
	// decoding joined to it are written relative to it again.
	baseDir string
}

// codec converts the values of one type of attribute. typ is the HCL type
// a value is converted to first, and kind names it in the reference;
// decode checks a value and converts it, reporting what is wrong at at;
// render writes a value back.
type codec[V any] struct {
	typ    cty.Type
	kind   string
	decode func(at attrValue, v cty.Value) (V, bool)
	render func(v V, o renderOptions) cty.Value
}

// attrValue is the attribute a codec decodes, for diagnostics at its
// value or at one element of a list.
type attrValue struct {
	d    *decoder
	attr *hcl.Attribute
}

func (a attrValue) name() string { return a.attr.Name }

func (a attrValue) errorf(summary, format string, args ...any) {
	r := a.attr.Expr.Range()
	a.d.errorf(&r, summary, format, args...)
}

func (a attrValue) elemErrorf(i int, summary, format string, args ...any) {
	a.d.errorf(elemRange(a.attr, i), summary, format, args...)
}

// attr describes an attribute of blocks of type T.
type attr[T any] struct {
	name, doc, kind string
	typ             cty.Type
	required        bool
	// def is the default as the reference shows it: HCL, or where the
	// value is inherited from; "" for none.
	def string
	// keep writes the attribute even when its value is the zero value,
	// as leaving it out would give its default or what it inherits.
	keep bool
	// only, when set, limits the attribute to the blocks it holds for.
	only *condition[T]
	// setDefault, when set, gives the attribute its default.
	setDefault func(*T)
	decode     func(at attrValue, v cty.Value, dst *T)
	// value is the attribute's value in src, and whether that is the
	// zero value.
	value func(src *T, o renderOptions) (cty.Value, bool)
}

// field describes attribute name, whose values c converts, kept in the
// field ptr returns; doc is its line in the reference. An attribute left
// out leaves the field as it is: the zero value, or what the block
// inherits.
func field[T, V any](name string, c codec[V], ptr func(*T) *V, doc string) attr[T] {
	return accessor(name, c, func(t *T) V { return *ptr(t) }, func(t *T, v V) { *ptr(t) = v }, doc)
}

// withDefault is field for an attribute that is def when left out.
func withDefault[T, V any](name string, c codec[V], ptr func(*T) *V, def V, doc string) attr[T] {
	a := field(name, c, ptr, doc)
	a.setDefault = func(t *T) { *ptr(t) = def }
	a.def = string(hclwrite.TokensForValue(c.render(def, renderOptions{secrets: true})).Bytes())
	a.keep = !isZero(def)
	return a
}

// accessor is field for a value not kept in one field as it is: get and
// set convert it.
func accessor[T, V any](name string, c codec[V], get func(*T) V, set func(*T, V), doc string) attr[T] {
	return attr[T]{
		name: name, doc: doc, kind: c.kind, typ: c.typ,
		decode: func(at attrValue, v cty.Value, dst *T) {
			if x, ok := c.decode(at, v); ok {
				set(dst, x)
			}
		},
		value: func(src *T, o renderOptions) (cty.Value, bool) {
			x := get(src)
			return c.render(x, o), isZero(x)
		},
	}
}

// require makes the attribute required, and so always written.
func (a attr[T]) require() attr[T] {
	a.required, a.keep = true, true
	return a
}

// inherits says that the attribute, left out, has a value from elsewhere:
// from says from where, for the reference.
func (a attr[T]) inherits(from string) attr[T] {
	a.def, a.keep = from, true
	return a
}

// onlyFor limits the attribute to the blocks c holds for.
func (a attr[T]) onlyFor(c *condition[T]) attr[T] {
	a.only = c
	return a
}

// condition limits attributes to the blocks it holds for: they are
// written only there, and one set elsewhere is an error with summary and
// the detail of detail. doc says it in the reference.
type condition[T any] struct {
	holds   func(*T) bool
	summary string
	detail  func(attr string, v *T) string
	doc     string
}

// isZero says whether v is the zero value of its type, or an empty slice
// or map.
func isZero[V any](v V) bool {
	rv := reflect.ValueOf(&v).Elem()
	if k := rv.Kind(); k == reflect.Slice || k == reflect.Map {
		return rv.Len() == 0
	}
	return rv.IsZero()
}

// block describes a type of block whose content is decoded into a T.
type block[T any] struct {
	// name is the block's type, doc its line in the reference.
	name, doc string
	// label names the block's label in the reference ("NAME"), "" for a
	// block without one; labelOf is the field it is kept in, and
	// checkLabel, when set, checks it and returns it as it is kept.
	label      string
	labelOf    func(*T) *string
	checkLabel func(d *decoder, rng *hcl.Range, label string) string
	// rangeOf, when set, is the field that keeps where the block is.
	rangeOf  func(*T) *hcl.Range
	attrs    []attr[T]
	children []child[T]
	// init, when set, makes what a new value needs before it is decoded,
	// after its defaults.
	init func(*T)
	// check, when set, checks what the attributes cannot check alone,
	// after they and the nested blocks are decoded.
	check func(s *scope, v *T)
	// is says, in a list of blocks of several types, which values are
	// written as this type; nil for any.
	is func(*T) bool
}

// named returns a copy of b for blocks of another type with the same
// content, such as metric_relabel beside relabel.
func (b *block[T]) named(name, doc string) *block[T] {
	c := *b
	c.name, c.doc = name, doc
	return &c
}

func (b *block[T]) header() hcl.BlockHeaderSchema {
	h := hcl.BlockHeaderSchema{Type: b.name}
	if b.label != "" {
		h.LabelNames = []string{strings.ToLower(b.label)}
	}
	return h
}

func (b *block[T]) schema() *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, a := range b.attrs {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: a.name, Required: a.required})
	}
	for _, c := range b.children {
		s.Blocks = append(s.Blocks, c.headers()...)
	}
	return s
}

// defaults sets the defaults of v's attributes and of the blocks nested
// in it that are always there.
func (b *block[T]) defaults(v *T) {
	for _, a := range b.attrs {
		if a.setDefault != nil {
			a.setDefault(v)
		}
	}
	for _, c := range b.children {
		c.defaults(v)
	}
}

// fresh returns a new value with its defaults; prepare, when set, gives
// it what it inherits from its parent.
func fresh[P, C any](b *block[C], d *decoder, parent *P, prepare func(*decoder, *P, *C)) *C {
	v := new(C)
	b.defaults(v)
	if b.init != nil {
		b.init(v)
	}
	if prepare != nil {
		prepare(d, parent, v)
	}
	return v
}

// start keeps hb's range and label in v, and returns the label.
func (b *block[T]) start(d *decoder, hb *hcl.Block, v *T) string {
	if b.rangeOf != nil {
		*b.rangeOf(v) = hb.DefRange
	}
	if b.labelOf == nil {
		return ""
	}
	label := hb.Labels[0]
	if b.checkLabel != nil {
		label = b.checkLabel(d, &hb.LabelRanges[0], label)
	}
	*b.labelOf(v) = label
	return label
}

// decode decodes body into v, which holds the defaults and what the block
// inherits; hb is the block, nil for the top level.
func (b *block[T]) decode(d *decoder, hb *hcl.Block, body hcl.Body, v *T) {
	s := &scope{d: d, block: hb, body: body, errors: len(d.diags.Errs())}
	content := d.content(body, b.schema())
	s.attrs = content.Attributes
	for _, a := range b.attrs {
		if ha, ok := s.attrs[a.name]; ok {
			if val, ok := d.eval(ha, a.typ); ok {
				a.decode(attrValue{d, ha}, val, v)
			}
		}
	}
	b.decodeChildren(d, b.children, content.Blocks, v)
	if b.check != nil {
		b.check(s, v)
	}
	for _, a := range b.attrs {
		if a.only != nil && s.set(a.name) && !a.only.holds(v) {
			s.errorf(a.name, a.only.summary, "%s", a.only.detail(a.name, v))
		}
	}
}

// decodeChildren decodes the blocks of each of children, in the order of
// children, as a block may refer to those decoded before it.
func (b *block[T]) decodeChildren(d *decoder, children []child[T], blocks hcl.Blocks, v *T) {
	for _, c := range children {
		var mine []*hcl.Block
		for _, hb := range blocks {
			if slices.ContainsFunc(c.headers(), func(h hcl.BlockHeaderSchema) bool { return h.Type == hb.Type }) {
				mine = append(mine, hb)
			}
		}
		c.decode(d, mine, v)
	}
}

// render writes v's attributes and nested blocks into body: every
// attribute whose value is not what leaving it out gives, and every one
// that has a default or inherits its value.
func (b *block[T]) render(body *hclwrite.Body, v *T, o renderOptions) {
	for _, a := range b.attrs {
		if a.only != nil && !a.only.holds(v) {
			continue
		}
		if val, zero := a.value(v, o); !zero || a.keep {
			body.SetAttributeValue(a.name, val)
		}
	}
	for _, c := range b.children {
		c.render(body, v, o)
	}
}

// appendTo writes v as a block at the end of parent, after an empty line
// when spaced and parent has content.
func (b *block[T]) appendTo(parent *hclwrite.Body, v *T, spaced bool, o renderOptions) {
	if spaced && (len(parent.Attributes()) > 0 || len(parent.Blocks()) > 0) {
		parent.AppendNewline()
	}
	var labels []string
	if b.labelOf != nil {
		labels = []string{*b.labelOf(v)}
	}
	b.render(parent.AppendNewBlock(b.name, labels).Body(), v, o)
}

// scope is a block being decoded, for its check.
type scope struct {
	d     *decoder
	block *hcl.Block // nil at the top level
	body  hcl.Body
	attrs hcl.Attributes
	// errors counts the errors before the block.
	errors int
}

// set says whether attribute name is set.
func (s *scope) set(name string) bool {
	_, ok := s.attrs[name]
	return ok
}

// rangeOf is the range of attribute name's value, or of the body when
// the attribute is not set.
func (s *scope) rangeOf(name string) *hcl.Range { return attrRange(s.attrs, name, s.body) }

// errorf reports an error at attribute name, or at the body when it is
// not set.
func (s *scope) errorf(name, summary, format string, args ...any) {
	s.d.errorf(s.rangeOf(name), summary, format, args...)
}

// elemErrorf reports an error at element i of list attribute name, which
// is set.
func (s *scope) elemErrorf(name string, i int, summary, format string, args ...any) {
	s.d.errorf(elemRange(s.attrs[name], i), summary, format, args...)
}

// blockErrorf reports an error at the block.
func (s *scope) blockErrorf(summary, format string, args ...any) {
	s.d.errorf(&s.block.DefRange, summary, format, args...)
}

// ok says whether the block has no error so far.
func (s *scope) ok() bool { return len(s.d.diags.Errs()) == s.errors }

// child describes blocks nested in a block of type P.
type child[P any] interface {
	headers() []hcl.BlockHeaderSchema
	// defaults sets the defaults of a block that is always there.
	defaults(p *P)
	// decode decodes the blocks of this child, in the file's order.
	decode(d *decoder, blocks []*hcl.Block, p *P)
	render(body *hclwrite.Body, p *P, o renderOptions)
	// specs describe the blocks for the reference; repeated says
	// whether there may be several.
	specs() []spec
	repeated() bool
}

// duplicate reports a second block hb of a type allowed once.
func (d *decoder) duplicate(hb, first *hcl.Block) {
	d.errorf(&hb.DefRange, "Duplicate "+hb.Type+" block", "Only one %s block is allowed; the first is at %s.", hb.Type, first.DefRange)
}

// nested is a block kept in a field of its parent that is always there:
// left out, it holds its defaults, and it is always written.
type nested[P, C any] struct {
	spec   *block[C]
	ptr    func(*P) *C
	spaced bool
}

func (n nested[P, C]) headers() []hcl.BlockHeaderSchema {
	return []hcl.BlockHeaderSchema{n.spec.header()}
}
func (n nested[P, C]) defaults(p *P)  { n.spec.defaults(n.ptr(p)) }
func (n nested[P, C]) specs() []spec  { return []spec{n.spec} }
func (n nested[P, C]) repeated() bool { return false }

func (n nested[P, C]) decode(d *decoder, blocks []*hcl.Block, p *P) {
	for i, hb := range blocks {
		if i > 0 {
			d.duplicate(hb, blocks[0])
			continue
		}
		n.spec.decode(d, hb, hb.Body, n.ptr(p))
	}
}

func (n nested[P, C]) render(body *hclwrite.Body, p *P, o renderOptions) {
	n.spec.appendTo(body, n.ptr(p), n.spaced, o)
}

// optional is a block kept in a pointer field of its parent, nil when it
// is left out. prepare, when set, gives a new one what it inherits.
type optional[P, C any] struct {
	spec    *block[C]
	ptr     func(*P) **C
	prepare func(d *decoder, parent *P, c *C)
	spaced  bool
}

func (n optional[P, C]) headers() []hcl.BlockHeaderSchema {
	return []hcl.BlockHeaderSchema{n.spec.header()}
}
func (n optional[P, C]) defaults(*P)    {}
func (n optional[P, C]) specs() []spec  { return []spec{n.spec} }
func (n optional[P, C]) repeated() bool { return false }

func (n optional[P, C]) decode(d *decoder, blocks []*hcl.Block, p *P) {
	for i, hb := range blocks {
		if i > 0 {
			d.duplicate(hb, blocks[0])
			continue
		}
		c := fresh(n.spec, d, p, n.prepare)
		n.spec.start(d, hb, c)
		n.spec.decode(d, hb, hb.Body, c)
		*n.ptr(p) = c
	}
}

func (n optional[P, C]) render(body *hclwrite.Body, p *P, o renderOptions) {
	if c := *n.ptr(p); c != nil {
		n.spec.appendTo(body, c, n.spaced, o)
	}
}

// list is any number of blocks, of one type or of several that decode
// into the same Go type, kept in a slice of the parent in the file's
// order.
type list[P, C any] struct {
	types []*block[C]
	items func(*P) []*C
	add   func(*P, *C)
	// prepare, when set, gives a new value what it inherits.
	prepare func(d *decoder, parent *P, c *C)
	// namespace, when set, is where the blocks' labels must be unique.
	namespace string
	spaced    bool
}

// listOf is a list kept as pointers.
func listOf[P, C any](ptr func(*P) *[]*C, types ...*block[C]) *list[P, C] {
	return &list[P, C]{
		types: types,
		items: func(p *P) []*C { return *ptr(p) },
		add:   func(p *P, c *C) { *ptr(p) = append(*ptr(p), c) },
	}
}

// valuesOf is a list kept as values.
func valuesOf[P, C any](ptr func(*P) *[]C, types ...*block[C]) *list[P, C] {
	return &list[P, C]{
		types: types,
		items: func(p *P) []*C {
			s := *ptr(p)
			out := make([]*C, len(s))
			for i := range s {
				out[i] = &s[i]
			}
			return out
		},
		add: func(p *P, c *C) { *ptr(p) = append(*ptr(p), *c) },
	}
}

// unique makes the labels of the list's blocks unique in namespace.
func (l *list[P, C]) unique(namespace string) *list[P, C] {
	l.namespace = namespace
	return l
}

// inheriting sets the list's prepare.
func (l *list[P, C]) inheriting(prepare func(d *decoder, parent *P, c *C)) *list[P, C] {
	l.prepare = prepare
	return l
}

// spacedOut writes an empty line before each block.
func (l *list[P, C]) spacedOut() *list[P, C] {
	l.spaced = true
	return l
}

func (l *list[P, C]) headers() []hcl.BlockHeaderSchema {
	var out []hcl.BlockHeaderSchema
	for _, t := range l.types {
		out = append(out, t.header())
	}
	return out
}

func (l *list[P, C]) defaults(*P)    {}
func (l *list[P, C]) repeated() bool { return true }

func (l *list[P, C]) specs() []spec {
	out := make([]spec, len(l.types))
	for i, t := range l.types {
		out[i] = t
	}
	return out
}

func (l *list[P, C]) decode(d *decoder, blocks []*hcl.Block, p *P) {
	for _, hb := range blocks {
		i := slices.IndexFunc(l.types, func(t *block[C]) bool { return t.name == hb.Type })
		t := l.types[i]
		c := fresh(t, d, p, l.prepare)
		label := t.start(d, hb, c)
		if l.namespace != "" && !d.unique(l.namespace, label, hb.LabelRanges[0]) {
			continue
		}
		t.decode(d, hb, hb.Body, c)
		l.add(p, c)
	}
}

func (l *list[P, C]) render(body *hclwrite.Body, p *P, o renderOptions) {
	for _, c := range l.items(p) {
		for _, t := range l.types {
			if t.is == nil || t.is(c) {
				t.appendTo(body, c, l.spaced, o)
				break
			}
		}
	}
}
