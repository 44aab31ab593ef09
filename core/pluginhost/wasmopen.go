package pluginhost

import (
	"context"
	"fmt"

	"github.com/vigilmon/vigil/hclconfig"
)

// openWasm loads the WebAssembly module of a plugin block, within the
// bounds the block sets; the module logs under the plugin's name.
func (h *Host) openWasm(ctx context.Context, p *hclconfig.Plugin) (Conn, error) {
	w, err := LoadWasm(ctx, WasmOptions{
		Path:             p.Source,
		Checksum:         p.Checksum,
		CacheDir:         h.cacheDir,
		Interpret:        h.interpret,
		MemoryLimitBytes: p.MemoryLimit,
		CallTimeout:      p.CallTimeout,
		AllowHosts:       p.AllowHosts,
		Logger:           h.logger.Named(p.Name),
	})
	if err != nil {
		return nil, fmt.Errorf("plugin %q: %w", p.Name, err)
	}
	return w, nil
}
