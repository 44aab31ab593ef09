package hclconfig

import (
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// HCL renders the configuration as it is in effect, in the canonical
// format: every attribute whose value is not what leaving it out gives,
// and every one with a default or an inherited value, so the defaults in
// effect show. Secrets render as "<secret>" and the passwords of URLs as
// "xxxxx", so the text is safe to show, as /api/v1/status/config does.
func (c *Config) HCL() []byte { return c.render(renderOptions{}) }

// render writes the configuration as configSpec describes it.
func (c *Config) render(o renderOptions) []byte {
	f := hclwrite.NewEmptyFile()
	configSpec.render(f.Body(), c, o)
	return hclwrite.Format(f.Bytes())
}
