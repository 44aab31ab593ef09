package hclconfig

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/prometheus/common/model"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
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
func findPluginFile(source, baseDir string) string {
	if filepath.IsAbs(source) {
		return source
	}
	if strings.ContainsRune(source, '/') || strings.ContainsRune(source, filepath.Separator) {
		return filepath.Join(baseDir, source)
	}
	for _, dir := range PluginSearchPath(baseDir) {
		path := filepath.Join(dir, source)
		if info, err := os.Stat(path); err == nil && info.Mode().IsRegular() {
			return path
		}
	}
	return source
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
	// notification; 0 when the block sets none, for DefaultNotifyTimeout.
	Timeout time.Duration
	// Range is where the block is declared; PluginRange is the plugin
	// attribute's value.
	Range, PluginRange hcl.Range
}

var pluginSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "source", Required: true}, {Name: "version"}, {Name: "checksum"}, {Name: "allow_hosts"},
	{Name: "memory_limit"}, {Name: "call_timeout"},
}}

var instanceSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "plugin", Required: true}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "config"}},
}

// notifierSchema is instanceSchema with the notifier's own settings.
var notifierSchema = &hcl.BodySchema{
	Attributes: append(slices.Clone(instanceSchema.Attributes), hcl.AttributeSchema{Name: "send_resolved"}, hcl.AttributeSchema{Name: "timeout"}),
	Blocks:     instanceSchema.Blocks,
}

func (d *decoder) plugin(b *hcl.Block) *Plugin {
	p := &Plugin{Name: b.Labels[0], MemoryLimit: DefaultPluginMemoryLimit, CallTimeout: DefaultPluginCallTimeout, Range: b.DefRange}
	attrs := d.content(b.Body, pluginSchema).Attributes
	d.str(attrs, "source", &p.Source)
	var constraint string
	d.str(attrs, "version", &constraint)
	switch {
	case p.Source == "":
		d.errorf(attrRange(attrs, "source", b.Body), "Invalid plugin source", "Plugin %q needs a source: the path of its program or .wasm module, or a registry address HOST/NAMESPACE/NAME.", p.Name)
	case isRegistryAddress(p.Source):
		p.Registry = &RegistryPlugin{Address: p.Source, Constraint: constraint, LockFile: filepath.Join(d.baseDir, registry.LockFileName)}
		if _, set := attrs["checksum"]; set {
			d.errorf(attrRange(attrs, "checksum", b.Body), "Checksum of a registry plugin", "The checksum of %s comes from the lock file; remove the checksum attribute.", p.Source)
		}
		d.resolveRegistryPlugin(p, attrs, b.Body)
		if p.Source == p.Registry.Address {
			return p // not resolved: the diagnostics say why
		}
	default:
		if constraint != "" {
			d.errorf(attrRange(attrs, "version", b.Body), "Version of a plugin file", "version applies to registry addresses (HOST/NAMESPACE/NAME); %q is a path.", p.Source)
		}
		p.Source = findPluginFile(p.Source, d.baseDir)
	}
	var sum string
	d.str(attrs, "checksum", &sum)
	if sum != "" && p.Registry == nil {
		raw, err := hex.DecodeString(strings.TrimPrefix(sum, "sha256:"))
		if err != nil || len(raw) != 32 {
			d.errorf(attrRange(attrs, "checksum", b.Body), "Invalid checksum", "checksum must be a SHA-256 in hex, optionally prefixed \"sha256:\", not %q.", sum)
		}
		p.Checksum = raw
	}
	d.strList(attrs, "allow_hosts", &p.AllowHosts)
	d.bytes(attrs, "memory_limit", &p.MemoryLimit)
	d.duration(attrs, "call_timeout", &p.CallTimeout)
	if !p.IsWasm() {
		for _, name := range []string{"allow_hosts", "memory_limit", "call_timeout"} {
			if _, set := attrs[name]; set {
				d.errorf(attrRange(attrs, name, b.Body), "Attribute for Wasm plugins only", "%s applies to WebAssembly plugins (a source ending in .wasm); plugin %q is a program.", name, p.Name)
			}
		}
	}
	return p
}

// pluginInstance decodes a discovery or notifier block, or, given
// content, the plugin part of an exporter block.
func (d *decoder) pluginInstance(b *hcl.Block, cfg *Config, content *hcl.BodyContent) *PluginInstance {
	if content == nil && b.Type == "notifier" {
		content = d.content(b.Body, notifierSchema)
	} else if content == nil {
		content = d.content(b.Body, instanceSchema)
	}
	inst := &PluginInstance{Name: b.Labels[0], Ctx: d.ctx, SendResolved: true, Range: b.DefRange}
	d.boolean(content.Attributes, "send_resolved", &inst.SendResolved)
	d.duration(content.Attributes, "timeout", &inst.Timeout)
	switch b.Type {
	case "exporter":
		inst.Kind = sdk.KindExporter
	case "discovery":
		inst.Kind = sdk.KindDiscoverer
	case "notifier":
		inst.Kind = sdk.KindNotifier
	}
	var name string
	a, ok := d.decodeInto(content.Attributes, "plugin", cty.String, &name)
	if !ok {
		return nil
	}
	inst.PluginRange = a.Expr.Range()
	for _, p := range cfg.Plugins {
		if p.Name == name {
			inst.Plugin = p
		}
	}
	if inst.Plugin == nil {
		detail := fmt.Sprintf("No plugin block is named %q.", name)
		if s := suggest(name, cfg.pluginNames()); s != "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		}
		d.errorf(&inst.PluginRange, "Unknown plugin", "%s", detail)
		return nil
	}
	for _, cb := range content.Blocks {
		if cb.Type != "config" {
			continue
		}
		if inst.Body != nil {
			d.errorf(&cb.DefRange, "Duplicate config block", "A %s block takes one config block.", b.Type)
			continue
		}
		inst.Body = cb.Body
	}
	return inst
}

// exporter decodes an exporter block: a job that collects a plugin.
func (d *decoder) exporter(b *hcl.Block, cfg *Config) *Scrape {
	s, content := d.job(b, &cfg.Global, cfg, exporterSchema, "interval", "timeout")
	s.Exporter = d.pluginInstance(b, cfg, content)
	return s
}

// discoveryRefs decodes a scrape's discovery list: names of discovery
// blocks.
func (d *decoder) discoveryRefs(attrs hcl.Attributes, body hcl.Body, cfg *Config, dst *[]string) {
	d.strList(attrs, "discovery", dst)
	for _, name := range *dst {
		if !slices.Contains(cfg.discoveryNames(), name) {
			detail := fmt.Sprintf("No discovery block is named %q.", name)
			if s := suggest(name, cfg.discoveryNames()); s != "" {
				detail += fmt.Sprintf(" Did you mean %q?", s)
			}
			d.errorf(attrRange(attrs, "discovery", body), "Unknown discovery", "%s", detail)
		}
	}
}

// unique reports a block whose name is taken already in its namespace
// (what), and says whether it is unique.
func (d *decoder) unique(what string, b *hcl.Block) bool {
	if d.names == nil {
		d.names = map[string]map[string]hcl.Range{}
	}
	if d.names[what] == nil {
		d.names[what] = map[string]hcl.Range{}
	}
	name := b.Labels[0]
	if prev, dup := d.names[what][name]; dup {
		d.errorf(&b.LabelRanges[0], "Duplicate "+what+" name", "A %s named %q is already defined at %s; %s names must be unique.", what, name, prev, what)
		return false
	}
	d.names[what][name] = b.LabelRanges[0]
	return true
}

func (c *Config) pluginNames() []string {
	var out []string
	for _, p := range c.Plugins {
		out = append(out, p.Name)
	}
	return out
}

func (c *Config) discoveryNames() []string { return instanceNames(c.Discoveries) }
func (c *Config) notifierNames() []string  { return instanceNames(c.Notifiers) }

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
