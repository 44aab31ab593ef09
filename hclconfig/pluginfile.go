package hclconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/vigilmon/vigil/sdk"
)

// PluginConfigFile is a file that holds the config of a plugin, as
// `vigil conformance run --config` reads it: a Vigil configuration file,
// such as a plugin's sample.hcl, in which an exporter, discovery or
// notifier block that uses the plugin holds its config; or one plugin's
// config attributes on their own, bare or inside one `config` block.
type PluginConfigFile struct {
	// Path is the file's path.
	Path string
	// Config is the Vigil configuration; nil for a file of one plugin's
	// config attributes.
	Config *Config
	// attributes is the instance of a file of one plugin's config
	// attributes.
	attributes *PluginInstance
}

// LoadPluginConfigFile reads the file at path. A file whose top level
// holds attributes and no block, or one `config` block and nothing else,
// is one plugin's config attributes, with env() and file() as a
// configuration offers them; any other file is a Vigil configuration,
// decoded as Load decodes it. Either way the config is decoded once the
// plugin is known: find its block with Instance, then decode it with
// DecodePluginConfig.
func LoadPluginConfigFile(path string) (*PluginConfigFile, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read plugin config file",
			Detail:   fmt.Sprintf("Reading %q failed: %s.", path, err),
		}}
	}
	file, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	body := file.Body.(*hclsyntax.Body)
	configBlock := len(body.Attributes) == 0 && len(body.Blocks) == 1 && body.Blocks[0].Type == "config" && len(body.Blocks[0].Labels) == 0
	if len(body.Blocks) == 0 || configBlock {
		inst := &PluginInstance{
			Name: filepath.Base(path), Plugin: &Plugin{Name: filepath.Base(path), Source: path},
			Body: body, Ctx: evalContext(filepath.Dir(path)), Range: body.SrcRange, SendResolved: true,
		}
		if configBlock {
			inst.Body = body.Blocks[0].Body
		}
		return &PluginConfigFile{Path: path, attributes: inst}, nil
	}
	cfg, diags := Parse(path, src)
	if diags.HasErrors() {
		return nil, diags
	}
	return &PluginConfigFile{Path: path, Config: cfg}, diags
}

// PluginQuery names the plugin whose config block Instance looks for.
type PluginQuery struct {
	// Path is the plugin's program or module.
	Path string
	// Name is the plugin's name, as its Info says; empty when unknown.
	Name string
	// Kind is the kind of block to look in; zero for every kind.
	Kind sdk.Kind
	// Block is the name of the block to take when several use the
	// plugin; empty to take the only one.
	Block string
}

// Instance returns the block of the file whose config is the plugin's.
// In a Vigil configuration these are the exporter, discovery and
// notifier blocks of q.Kind whose plugin block's source is the file at
// q.Path, or a file of the same name (a bare source such as
// "vigil-notifier-email" is found beside vigil or on PATH, which need
// not be where the plugin checked is); when none is, those whose plugin
// block is named q.Name. It takes the one named q.Block, or else the
// only one, and says what it looked for when it finds none or several.
// A file of one plugin's config attributes is that plugin's, of q.Kind.
func (f *PluginConfigFile) Instance(q PluginQuery) (*PluginInstance, error) {
	if f.Config == nil {
		if q.Block != "" {
			return nil, fmt.Errorf("%s holds one plugin's config attributes, not a Vigil configuration with blocks to choose %q from", f.Path, q.Block)
		}
		inst := *f.attributes
		inst.Kind = q.Kind
		return &inst, nil
	}
	what := "exporter, discovery or notifier block"
	if q.Kind != 0 {
		what = q.Kind.String() + " block"
	}
	var ofKind []*PluginInstance
	for _, inst := range f.Config.Instances() {
		if q.Kind == 0 || inst.Kind == q.Kind {
			ofKind = append(ofKind, inst)
		}
	}
	uses := filterInstances(ofKind, func(inst *PluginInstance) bool { return samePluginFile(inst.Plugin.Source, q.Path) })
	lookedFor := fmt.Sprintf("a plugin block whose source is %s or a file named %q", q.Path, filepath.Base(q.Path))
	if len(uses) == 0 && q.Name != "" {
		uses = filterInstances(ofKind, func(inst *PluginInstance) bool { return inst.Plugin.Name == q.Name })
		lookedFor += fmt.Sprintf(", then a plugin block named %q, the plugin's name", q.Name)
	}
	if q.Block != "" {
		named := filterInstances(uses, func(inst *PluginInstance) bool { return inst.Name == q.Block })
		switch len(named) {
		case 1:
			return named[0], nil
		case 0:
			if len(uses) == 0 {
				return nil, fmt.Errorf("%s has no %s that uses the plugin, so none named %q (looked for %s)", f.Path, what, q.Block, lookedFor)
			}
			return nil, fmt.Errorf("%s has no %s named %q that uses the plugin; %s do", f.Path, what, q.Block, describeInstances(uses))
		}
		uses = named
	}
	switch len(uses) {
	case 0:
		return nil, fmt.Errorf("%s has no %s that uses the plugin: looked for %s", f.Path, what, lookedFor)
	case 1:
		return uses[0], nil
	}
	return nil, fmt.Errorf("%s has several blocks that use the plugin, %s: name the one to take (--block NAME)", f.Path, describeInstances(uses))
}

func filterInstances(list []*PluginInstance, keep func(*PluginInstance) bool) []*PluginInstance {
	var out []*PluginInstance
	for _, inst := range list {
		if keep(inst) {
			out = append(out, inst)
		}
	}
	return out
}

// describeInstances names instances as `notifier "a", exporter "b"`.
func describeInstances(list []*PluginInstance) string {
	names := make([]string, len(list))
	for i, inst := range list {
		names[i] = fmt.Sprintf("%s %q", inst.Kind, inst.Name)
	}
	return strings.Join(slices.Compact(names), ", ")
}

// samePluginFile says whether a plugin block's source, resolved, names
// the file at path: the same file, or one of the same name.
func samePluginFile(source, path string) bool {
	if filepath.Base(source) == filepath.Base(path) {
		return true
	}
	a, errA := os.Stat(source)
	b, errB := os.Stat(path)
	return errA == nil && errB == nil && os.SameFile(a, b)
}
