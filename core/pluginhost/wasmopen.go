package pluginhost

import (
	"context"
	"errors"

	"github.com/vigilmon/vigil/hclconfig"
)

// openWasm loads the WebAssembly module of a plugin block.
func (h *Host) openWasm(_ context.Context, p *hclconfig.Plugin) (Conn, error) {
	return nil, errors.New("plugin " + p.Name + ": WebAssembly plugins are not supported by this build")
}
