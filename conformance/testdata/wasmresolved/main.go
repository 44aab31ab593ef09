// Command wasmresolved is a broken notifier for the conformance suite's
// tests, a WebAssembly module: it refuses resolved notifications. It
// fails notifier.resolved only.
package main

import (
	"context"
	"errors"

	"github.com/vigilmon/vigil/sdk"
	"github.com/vigilmon/vigil/sdk/wasm"
)

type notifier struct{}

func (notifier) Notify(_ context.Context, n *sdk.Notification) error {
	if n.Status != "firing" {
		return sdk.Permanent(errors.New("only firing notifications are supported"))
	}
	return nil
}

func init() {
	wasm.Register(sdk.Plugin{
		Info:     sdk.Info{Name: "wasmresolved", Version: "0.1.0", Description: "Refuses resolved notifications."},
		Notifier: func(sdk.Config) (sdk.Notifier, error) { return notifier{}, nil },
	})
}

// main does not run in a module: the host calls the plugin's exports.
func main() {}
