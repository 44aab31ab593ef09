package wasm

import (
	"fmt"
	"sync"

	"github.com/vigilmon/vigil/sdk"
)

// registry holds the plugin the module serves.
var registry struct {
	mu     sync.Mutex
	plugin sdk.Plugin
	set    bool
	server *sdk.Server
	err    error
}

// Register makes p the plugin the module serves. Call it once, from an
// init function of package main: the host calls the module's exports
// only after every init function has run, and main never runs. A plugin
// that is not valid (see sdk.Plugin.Kind), or a second call, makes every
// call of the host fail with the reason, which the host reports when it
// loads the module.
func Register(p sdk.Plugin) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.set {
		registry.server = nil
		registry.err = fmt.Errorf("wasm.Register was called more than once, for %q and then %q", registry.plugin.Info.Name, p.Info.Name)
		return
	}
	registry.plugin, registry.set = p, true
	registry.server, registry.err = sdk.NewServer(p)
	if registry.err != nil {
		registry.err = fmt.Errorf("wasm.Register: %w", registry.err)
	}
}

// Registered returns the plugin given to Register, and false when there
// is none. Tests of a plugin use it to reach the plugin's constructors
// without building a module.
func Registered() (sdk.Plugin, bool) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	return registry.plugin, registry.set
}

// registeredServer returns the server of the registered plugin, or why
// there is none.
func registeredServer() (*sdk.Server, error) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if !registry.set {
		return nil, fmt.Errorf("the module registered no plugin: call wasm.Register from an init function of package main")
	}
	return registry.server, registry.err
}
