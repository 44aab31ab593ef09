//go:build wasip1

package main

import (
	"github.com/hashicorp/go-hclog"

	"github.com/vigilmon/vigil/sdk"
	"github.com/vigilmon/vigil/sdk/wasm"
)

// newClient returns the client the module polls with: the host makes its
// requests, to the hosts of the plugin block's allow_hosts only, and
// verifies certificates itself, so tls_insecure_skip_verify cannot be
// honoured.
func newClient(insecure bool) (*wasm.Client, error) {
	if insecure {
		return nil, sdk.AttributeErrorf("tls_insecure_skip_verify", "cannot be set for the WebAssembly module, whose requests the host makes and verifies: use the program (vigil-discovery-http)")
	}
	return wasm.HTTPClient(), nil
}

// logger is the module's logger, through the host's log import.
func logger() hclog.Logger { return wasm.Logger() }
