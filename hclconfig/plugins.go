package hclconfig

import (
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/prometheus/common/model"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/gocty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/vigilmon/vigil/registry"
	"github.com/vigilmon/vigil/sdk"
)

// Defaults of plugin blocks.
const (
	DefaultPluginMemoryLimit = 64 << 20
	DefaultPluginCallTimeout = 10 * time.Second
)

// Plugin is a `plugin "<name>"` block: where a plugin comes from. A source
// ending in .wasm is a WebAssembly module; anything else is a program
// speaking gRPC. A source may also be a registry address, resolved through
// the lock file.
type Plugin struct {
	Name string
	// Source is the plugin's file (see findPluginFile), or, for a
	// registry address, the installed file.
	Source string
	// Checksum is the SHA-256 the file must have; nil when not pinned.
	// For a registry address it is the lock file's.
	Checksum []byte
	// Registry is set when the source is a registry address.
	Registry *RegistryPlugin
	// AllowHosts are the hosts a Wasm plugin may reach with http_request.
	AllowHosts []string
	// MemoryLimit (bytes) and CallTimeout bound a Wasm plugin.
	MemoryLimit int64
	CallTimeout time.Duration
	// Env names the variables of the server's environment a plugin
	// program gets; it gets no others.
	Env []string
	// Range is where the block is declared, for diagnostics.
	Range hcl.Range
}

// findPluginFile resolves a plugin source that is a path. A relative path
// starts at baseDir, the folder of the configuration file. A bare file
// name, without a folder, is looked for in baseDir, then in the folder of
// the running vigil program (where `make plugins` puts the first-party
// plugins, beside vigil), then in the folders of PATH, so that one
// configuration works wherever it sits; a name found nowhere is returned
// as it is, for the host to report.
//
// A path it returns is absolute: joined to a configuration in the working
// directory, a relative one would be a bare name again, which the host
// takes for one found nowhere.
func findPluginFile(source, baseDir string) string {
	if filepath.IsAbs(source) {
		return source
	}
	if strings.ContainsRune(source, '/') || strings.ContainsRune(source, filepath.Separator) {
		return absolute(filepath.Join(baseDir, source))
	}
	for _, dir := range PluginSearchPath(baseDir) {
		path := filepath.Join(dir, source)
		if info, err := os.Stat(path); err == nil && info.Mode().IsRegular() {
			return absolute(path)
		}
	}
	return source
}

// absolute is path made absolute, or path when the working directory
// cannot be known.
func absolute(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// PluginSearchPath is where a plugin source given as a bare file name is
// looked for, in order: baseDir (the configuration's folder), the folder
// of the running vigil program, and the folders of PATH.
func PluginSearchPath(baseDir string) []string {
	dirs := []string{baseDir}
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			dirs = append(dirs, filepath.Dir(exe))
		}
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir != "" {
			dirs = append(dirs, dir)
		}
	}
	return dirs
}

// IsWasm says whether the plugin is a WebAssembly module.
func (p *Plugin) IsWasm() bool { return strings.HasSuffix(p.Source, ".wasm") }

// PluginInstance is a use of a plugin with a config: a discovery or
// notifier block, or the plugin part of an exporter block.
type PluginInstance struct {
	// Name is the block's label.
	Name string
	// Kind is what the block asks for: exporter, discovery or notifier.
	Kind sdk.Kind
	// Plugin is the plugin block named by the `plugin` attribute.
	Plugin *Plugin
	// Body is the `config` block, to be decoded with DecodePluginConfig
	// once the plugin's schema is known; nil when there is none.
	Body hcl.Body
	// Ctx evaluates the body's expressions (env, file).
	Ctx *hcl.EvalContext
	// Values is the decoded config, in a configuration resolved against
	// the plugins' schemas (see WithPluginValues); nil in one as parsed.
	Values *sdk.Config
	// SendResolved, for a notifier, says whether it is told of resolved
	// alerts, as a receiver's send_resolved in Alertmanager; true unless
	// the block sets it.
	SendResolved bool
	// Timeout, for a notifier, bounds one attempt to deliver a
	// notification: DefaultNotifyTimeout unless the block sets it, and 0,
	// meaning the same, in an instance not from a configuration file.
	Timeout time.Duration
	// Range is where the block is declared; PluginRange is the plugin
	// attribute's value.
	Range, PluginRange hcl.Range
	// MultiTarget, for an exporter, says that its block has targets or
	// discovery: the plugin must be a multi-target exporter (claim
	// sdk.CapabilityMultiTarget). TargetsRange is where they are set.
	MultiTarget  bool
	TargetsRange hcl.Range
}

var (
	// wasmOnly holds for a WebAssembly plugin, and for a registry plugin
	// not resolved, whose file is not known.
	wasmOnly = &condition[Plugin]{
		holds:   func(p *Plugin) bool { return p.IsWasm() || (p.Registry != nil && p.Source == p.Registry.Address) },
		summary: "Attribute for Wasm plugins only",
		detail: func(attr string, p *Plugin) string {
			return fmt.Sprintf("%s applies to WebAssembly plugins (a source ending in .wasm); plugin %q is a program.", attr, p.Name)
		},
		doc: "Wasm plugins only.",
	}
	registryOnly = &condition[Plugin]{
		holds:   func(p *Plugin) bool { return p.Registry != nil },
		summary: "Version of a plugin file",
		detail: func(attr string, p *Plugin) string {
			return fmt.Sprintf("%s applies to registry addresses (HOST/NAMESPACE/NAME); %q is a path.", attr, p.Source)
		},
		doc: "Registry addresses only.",
	}
	filesOnly = &condition[Plugin]{
		holds:   func(p *Plugin) bool { return p.Registry == nil },
		summary: "Checksum of a registry plugin",
		detail: func(attr string, p *Plugin) string {
			return fmt.Sprintf("The %s of %s comes from the lock file; remove the %s attribute.", attr, p.Registry.Address, attr)
		},
		doc: "Paths only.",
	}
)

// envNames are names of environment variables: not empty, without "=".
var envNames = codec[[]string]{
	typ: cty.List(cty.String), kind: "list of string",
	decode: func(at attrValue, v cty.Value) ([]string, bool) {
		names, ok := strList.decode(at, v)
		for _, n := range names {
			if n == "" || strings.ContainsAny(n, "=\x00") {
				at.errorf("Invalid environment variable name", "%q is not the name of an environment variable.", n)
				return nil, false
			}
		}
		return names, ok
	},
	render: strList.render,
}

var pluginSpec = &block[Plugin]{
	name: "plugin", label: "NAME", doc: "Where a plugin comes from: a program, a WebAssembly module or a registry address.",
	labelOf: func(p *Plugin) *string { return &p.Name },
	rangeOf: func(p *Plugin) *hcl.Range { return &p.Range },
	attrs: []attr[Plugin]{
		// A registry address is kept as Registry.Address, and Source
		// becomes the installed file; version is kept only for one, and
		// so comes after source.
		accessor("source", pluginSource,
			func(p *Plugin) string {
				if p.Registry != nil {
					return p.Registry.Address
				}
				return p.Source
			},
			func(p *Plugin, s string) {
				p.Source = s
				if isRegistryAddress(s) {
					p.Registry = &RegistryPlugin{Address: s}
				}
			},
			"A path, a bare file name looked for beside this file, vigil and on PATH, or a registry address HOST/NAMESPACE/NAME.").require(),
		accessor("version", str,
			func(p *Plugin) string { return p.Registry.Constraint },
			func(p *Plugin, v string) {
				if p.Registry != nil {
					p.Registry.Constraint = v
				}
			},
			"The versions of a registry plugin allowed, such as \"~> 1.2\".").onlyFor(registryOnly),
		field("checksum", checksum, func(p *Plugin) *[]byte { return &p.Checksum },
			"The SHA-256 the file must have, in hex, optionally prefixed \"sha256:\".").onlyFor(filesOnly),
		field("env", envNames, func(p *Plugin) *[]string { return &p.Env },
			"The names of the server's environment variables a plugin program gets, those set; it gets no others (a Wasm module gets none)."),
		field("allow_hosts", strList, func(p *Plugin) *[]string { return &p.AllowHosts },
			"The only hosts the module may reach.").onlyFor(wasmOnly),
		withDefault("memory_limit", size, func(p *Plugin) *int64 { return &p.MemoryLimit }, DefaultPluginMemoryLimit,
			"The memory the module may use.").onlyFor(wasmOnly),
		withDefault("call_timeout", duration[time.Duration](), func(p *Plugin) *time.Duration { return &p.CallTimeout }, DefaultPluginCallTimeout,
			"How long a call may run before it is stopped.").onlyFor(wasmOnly),
	},
	check: func(s *scope, p *Plugin) {
		switch {
		case p.Source == "":
			if s.set("source") {
				s.errorf("source", "Invalid plugin source", "Plugin %q needs a source: the path of its program or .wasm module, or a registry address HOST/NAMESPACE/NAME.", p.Name)
			}
		case p.Registry != nil:
			p.Registry.LockFile = filepath.Join(s.d.baseDir, registry.LockFileName)
			if !s.d.unresolved {
				s.d.resolveRegistryPlugin(s, p)
			}
		default:
			p.Source = findPluginFile(p.Source, s.d.baseDir)
		}
	},
}

// pluginSource is a plugin's source: a registry address, or a path
// written relative to the configuration file's folder.
var pluginSource = codec[string]{
	typ: cty.String, kind: "string",
	decode: str.decode,
	render: func(s string, o renderOptions) cty.Value {
		if isRegistryAddress(s) {
			return cty.StringVal(s)
		}
		return cty.StringVal(relativePath(s, o))
	},
}

// checksum is a SHA-256 in hex, optionally prefixed "sha256:"; "" is
// none.
var checksum = codec[[]byte]{
	typ: cty.String, kind: "string",
	decode: func(at attrValue, v cty.Value) ([]byte, bool) {
		sum := v.AsString()
		if sum == "" {
			return nil, true
		}
		raw, err := hex.DecodeString(strings.TrimPrefix(sum, "sha256:"))
		if err != nil || len(raw) != 32 {
			at.errorf("Invalid checksum", "checksum must be a SHA-256 in hex, optionally prefixed \"sha256:\", not %q.", sum)
			return nil, false
		}
		return raw, true
	},
	render: func(sum []byte, _ renderOptions) cty.Value { return cty.StringVal(fmt.Sprintf("sha256:%x", sum)) },
}

// pluginRef is the name of a plugin block; the instance's check finds
// the block (resolvePlugin).
var pluginRef = codec[*Plugin]{
	typ: cty.String, kind: "string",
	decode: func(_ attrValue, v cty.Value) (*Plugin, bool) { return &Plugin{Name: v.AsString()}, true },
	render: func(p *Plugin, _ renderOptions) cty.Value {
		if p == nil {
			return cty.StringVal("")
		}
		return cty.StringVal(p.Name)
	},
}

// instanceAttrs are the attributes every plugin instance has.
var instanceAttrs = []attr[PluginInstance]{
	field("plugin", pluginRef, func(i *PluginInstance) **Plugin { return &i.Plugin }, "The plugin block.").require(),
}

var discoverySpec = &block[PluginInstance]{
	name: "discovery", label: "NAME", doc: "A source of scrape targets, named by the discovery list of scrape blocks.",
	labelOf:  func(i *PluginInstance) *string { return &i.Name },
	rangeOf:  func(i *PluginInstance) *hcl.Range { return &i.Range },
	init:     func(i *PluginInstance) { i.Kind = sdk.KindDiscoverer },
	attrs:    instanceAttrs,
	children: []child[PluginInstance]{configBlock[PluginInstance]{inst: func(i *PluginInstance) *PluginInstance { return i }}},
	check:    func(s *scope, i *PluginInstance) { s.d.resolvePlugin(s, i) },
}

var notifierSpec = &block[PluginInstance]{
	name: "notifier", label: "NAME", doc: "A way to deliver alerts, named by routes.",
	labelOf: func(i *PluginInstance) *string { return &i.Name },
	rangeOf: func(i *PluginInstance) *hcl.Range { return &i.Range },
	init:    func(i *PluginInstance) { i.Kind = sdk.KindNotifier },
	attrs: append(slices.Clone(instanceAttrs),
		withDefault("send_resolved", boolean, func(i *PluginInstance) *bool { return &i.SendResolved }, true,
			"Whether resolved alerts are notified too."),
		withDefault("timeout", duration[time.Duration](), func(i *PluginInstance) *time.Duration { return &i.Timeout }, DefaultNotifyTimeout,
			"How long one attempt to deliver may take."),
	),
	children: []child[PluginInstance]{configBlock[PluginInstance]{inst: func(i *PluginInstance) *PluginInstance { return i }}},
	check:    func(s *scope, i *PluginInstance) { s.d.resolvePlugin(s, i) },
}

// resolvePlugin finds the plugin block an instance's plugin attribute
// names, or reports it and leaves the instance without a plugin.
func (d *decoder) resolvePlugin(s *scope, inst *PluginInstance) {
	inst.Ctx = d.ctx
	if inst.Plugin == nil {
		return // not set or not decoded: reported already
	}
	name := inst.Plugin.Name
	inst.Plugin, inst.PluginRange = nil, *s.rangeOf("plugin")
	for _, p := range d.cfg.Plugins {
		if p.Name == name {
			inst.Plugin = p
		}
	}
	if inst.Plugin == nil {
		detail := fmt.Sprintf("No plugin block is named %q.", name)
		if s := suggest(name, d.cfg.pluginNames()); s != "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		}
		d.errorf(&inst.PluginRange, "Unknown plugin", "%s", detail)
	}
}

// configBlock is the config block of a plugin instance: its body is kept
// as it is, to be decoded against the plugin's schema once it is known
// (DecodePluginConfig).
type configBlock[P any] struct {
	inst func(*P) *PluginInstance
}

// configBlockSpec describes the config block in the reference.
var configBlockSpec = &block[PluginInstance]{name: "config", doc: "The plugin's own attributes, checked against its schema; see its README."}

func (c configBlock[P]) headers() []hcl.BlockHeaderSchema {
	return []hcl.BlockHeaderSchema{{Type: "config"}}
}
func (c configBlock[P]) defaults(*P)    {}
func (c configBlock[P]) specs() []spec  { return []spec{configBlockSpec} }
func (c configBlock[P]) repeated() bool { return false }

func (c configBlock[P]) decode(d *decoder, blocks []*hcl.Block, p *P) {
	for i, hb := range blocks {
		if i > 0 {
			d.duplicate(hb, blocks[0])
			continue
		}
		c.inst(p).Body = hb.Body
	}
}

func (c configBlock[P]) render(body *hclwrite.Body, p *P, o renderOptions) {
	values := configValues(c.inst(p), o)
	if len(values) == 0 {
		return
	}
	cb := body.AppendNewBlock("config", nil).Body()
	for _, name := range slices.Sorted(maps.Keys(values)) {
		cb.SetAttributeValue(name, values[name])
	}
}

// configValues are the attributes of an instance's config block. With
// o.secrets they are the block's as written, which parse back to the
// same block. Otherwise they are the decoded config's, sensitive values
// hidden; before the config is decoded against the plugin's schema it is
// not known which are sensitive, and there are none.
func configValues(inst *PluginInstance, o renderOptions) map[string]cty.Value {
	out := map[string]cty.Value{}
	switch {
	case o.secrets && inst.Body != nil:
		attrs, _ := inst.Body.JustAttributes()
		for name, a := range attrs {
			if v, diags := a.Expr.Value(inst.Ctx); !diags.HasErrors() {
				out[name] = v
			}
		}
	case inst.Values != nil:
		for name, v := range inst.Values.Redacted() {
			ty, err := gocty.ImpliedType(v)
			if err != nil {
				continue
			}
			if cv, err := gocty.ToCtyValue(v, ty); err == nil {
				out[name] = cv
			}
		}
	}
	return out
}

// checkDiscoveryRefs reports the names of a scrape's discovery list that
// name no discovery block.
func (d *decoder) checkDiscoveryRefs(s *scope, names []string) {
	known := instanceNames(d.cfg.Discoveries)
	for _, name := range names {
		if !slices.Contains(known, name) {
			detail := fmt.Sprintf("No discovery block is named %q.", name)
			if sg := suggest(name, known); sg != "" {
				detail += fmt.Sprintf(" Did you mean %q?", sg)
			}
			s.errorf("discovery", "Unknown discovery", "%s", detail)
		}
	}
}

func (c *Config) pluginNames() []string {
	var out []string
	for _, p := range c.Plugins {
		out = append(out, p.Name)
	}
	return out
}

func instanceNames(list []*PluginInstance) []string {
	var out []string
	for _, i := range list {
		out = append(out, i.Name)
	}
	return out
}

// Instances returns every use of a plugin: exporters, discoveries and
// notifiers, in that order.
func (c *Config) Instances() []*PluginInstance {
	var out []*PluginInstance
	for _, s := range c.Scrapes {
		if s.Exporter != nil {
			out = append(out, s.Exporter)
		}
	}
	out = append(out, c.Discoveries...)
	return append(out, c.Notifiers...)
}

// WithPluginValues returns a copy of c whose plugin instances carry their
// decoded configs, values[inst] for each instance inst of c; c itself is
// not changed. Its scrape blocks and instances are copies; the rest is
// shared.
func (c *Config) WithPluginValues(values map[*PluginInstance]*sdk.Config) *Config {
	out := *c
	withValues := func(inst *PluginInstance) *PluginInstance {
		cp := *inst
		cp.Values = values[inst]
		return &cp
	}
	out.Scrapes = make([]*Scrape, len(c.Scrapes))
	for i, sc := range c.Scrapes {
		if sc.Exporter != nil {
			cp := *sc
			cp.Exporter = withValues(sc.Exporter)
			sc = &cp
		}
		out.Scrapes[i] = sc
	}
	copyAll := func(list []*PluginInstance) []*PluginInstance {
		res := make([]*PluginInstance, len(list))
		for i, inst := range list {
			res[i] = withValues(inst)
		}
		return res
	}
	out.Discoveries, out.Notifiers = copyAll(c.Discoveries), copyAll(c.Notifiers)
	return &out
}

// DecodePluginConfig decodes an instance's config block against the
// plugin's schema and returns it as the JSON object Configure takes.
// Every mistake is a diagnostic at its place in the file: an unknown
// attribute (with a suggestion), a missing required one, a value of the
// wrong type or a bad duration. Defaults are left to the plugin.
func DecodePluginConfig(inst *PluginInstance, schema sdk.Schema) ([]byte, hcl.Diagnostics) {
	body := inst.Body
	if body == nil {
		body = hcl.EmptyBody()
	}
	hs := &hcl.BodySchema{}
	for _, a := range schema {
		hs.Attributes = append(hs.Attributes, hcl.AttributeSchema{Name: a.Name, Required: a.Required})
	}
	content, diags := body.Content(hs)
	if diags.HasErrors() {
		for _, diag := range diags {
			if diag.Subject == nil {
				r := inst.Range
				diag.Subject = &r
			}
			diag.Detail = strings.TrimSpace(diag.Detail + fmt.Sprintf(" (plugin %q, %s %q)", inst.Plugin.Name, inst.Kind, inst.Name))
		}
		return nil, diags
	}
	values := map[string]cty.Value{}
	for _, a := range schema {
		attr, ok := content.Attributes[a.Name]
		if !ok {
			continue
		}
		v, vd := attr.Expr.Value(inst.Ctx)
		diags = append(diags, vd...)
		if vd.HasErrors() {
			continue
		}
		rng := attr.Expr.Range()
		v, err := convert.Convert(v, ctyType(a.Type))
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "Incorrect attribute value type",
				Detail:  fmt.Sprintf("Inappropriate value for attribute %q: %s required.", a.Name, a.Type),
				Subject: &rng,
			})
			continue
		}
		if v.IsNull() {
			continue
		}
		if problem := checkPluginValue(a, v); problem != "" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "Invalid attribute value",
				Detail:  fmt.Sprintf("Inappropriate value for attribute %q: %s.", a.Name, problem),
				Subject: &rng,
			})
			continue
		}
		if a.Type == sdk.TypeDuration {
			if _, err := model.ParseDuration(v.AsString()); err != nil {
				shown := fmt.Sprintf("%q", v.AsString())
				if a.Sensitive {
					shown = "the value"
				}
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError, Summary: "Invalid duration",
					Detail:  fmt.Sprintf("%s is not a valid duration for %s; write it as Prometheus does, such as \"15s\", \"1h30m\" or \"15d\".", shown, a.Name),
					Subject: &rng,
				})
				continue
			}
		}
		values[a.Name] = v
	}
	if diags.HasErrors() {
		return nil, diags
	}
	obj := cty.EmptyObjectVal
	if len(values) > 0 {
		obj = cty.ObjectVal(values)
	}
	out, err := ctyjson.Marshal(obj, obj.Type())
	if err != nil {
		r := inst.Range
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot encode plugin config", Detail: err.Error(), Subject: &r}}
	}
	return out, diags
}

// checkPluginValue says what is wrong with a value of the attribute's
// type that the plugin would refuse, in JSON: a number a float64 cannot
// hold, or a null element of a list or a map. It returns "" for none.
func checkPluginValue(a sdk.Attribute, v cty.Value) string {
	switch a.Type {
	case sdk.TypeNumber:
		if f, _ := v.AsBigFloat().Float64(); math.IsInf(f, 0) {
			return "the number is too large"
		}
	case sdk.TypeStringList, sdk.TypeStringMap:
		for it := v.ElementIterator(); it.Next(); {
			if _, e := it.Element(); e.IsNull() {
				return fmt.Sprintf("a %s must not hold null", a.Type)
			}
		}
	}
	return ""
}

// ctyType is the HCL type of an attribute type.
func ctyType(t sdk.AttributeType) cty.Type {
	switch t {
	case sdk.TypeNumber:
		return cty.Number
	case sdk.TypeBool:
		return cty.Bool
	case sdk.TypeStringList:
		return cty.List(cty.String)
	case sdk.TypeStringMap:
		return cty.Map(cty.String)
	}
	return cty.String
}

// suggest returns the name in names closest to name, when it is close
// enough to be a likely typo.
func suggest(name string, names []string) string {
	best, bestDist := "", 3
	for _, n := range names {
		if dist := levenshtein.Distance(name, n, nil); dist < bestDist {
			best, bestDist = n, dist
		}
	}
	return best
}
