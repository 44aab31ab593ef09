package hclconfig

import (
	"path/filepath"

	"github.com/hashicorp/hcl/v2/hclwrite"
)

// HCL renders the configuration as it is in effect, in the canonical
// format: every attribute whose value is not what leaving it out gives,
// and every one with a default or an inherited value, so the defaults in
// effect show. Relative paths are written from the configuration file's
// folder, as in the file. Secrets render as "<secret>" and the passwords
// of URLs as "xxxxx", so the text is safe to show, as
// /api/v1/status/config does.
func (c *Config) HCL() []byte { return c.render(false) }

// render writes the configuration as configSpec describes it. With
// secrets, the text in place of the configuration file gives the same
// configuration back.
func (c *Config) render(secrets bool) []byte {
	o := renderOptions{secrets: secrets, baseDir: filepath.Dir(c.File)}
	f := hclwrite.NewEmptyFile()
	configSpec.render(f.Body(), c, o)
	return hclwrite.Format(f.Bytes())
}
