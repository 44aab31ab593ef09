package hclconfig

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/vigilmon/vigil/sdk"
)

// LoadPluginConfig reads a file holding one plugin's config on its own:
// the attributes of a `config {}` block, bare or inside one such block,
// with env() and file() as a config file offers them. The instance it
// returns, of kind and named by the file, is ready for
// DecodePluginConfig once the plugin's schema is known; `vigil
// conformance run --config` reads its file this way.
func LoadPluginConfig(path string, kind sdk.Kind) (*PluginInstance, hcl.Diagnostics) {
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
	inst := &PluginInstance{
		Name: filepath.Base(path), Kind: kind, Plugin: &Plugin{Name: filepath.Base(path), Source: path},
		Body: body, Ctx: evalContext(filepath.Dir(path)), Range: body.SrcRange, SendResolved: true,
	}
	if len(body.Attributes) == 0 && len(body.Blocks) == 1 && body.Blocks[0].Type == "config" && len(body.Blocks[0].Labels) == 0 {
		inst.Body = body.Blocks[0].Body
	}
	return inst, nil
}
