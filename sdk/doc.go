// Package sdk is what a Vigil plugin imports. A plugin is an exporter
// (produces metrics), a discoverer (produces scrape targets) or a
// notifier (delivers alerts). Its author implements one of the Exporter,
// Discoverer or Notifier interfaces, declares the plugin's config
// attributes with a Schema, and calls Serve from main:
//
//	func main() {
//		sdk.Serve(sdk.Plugin{
//			Info:   sdk.Info{Name: "hello", Version: "0.1.0", Description: "Says hello."},
//			Schema: sdk.Schema{sdk.String("greeting", "What to say.", sdk.Default("hello"))},
//			Exporter: func(cfg sdk.Config) (sdk.Exporter, error) {
//				return &hello{greeting: cfg.String("greeting")}, nil
//			},
//		})
//	}
//
// Serve speaks the gRPC protocol of sdk/proto through hashicorp/go-plugin;
// package sdk/wasm serves the same Plugin from a WebAssembly module.
// Vigil's core/pluginhost/client is the other side, the host's.
//
// The package imports nothing of Vigil's core, and is in a module of its
// own, github.com/vigilmon/vigil/sdk, so plugins stay small. Package
// sdk/plugintest tests a plugin through the vigil binary.
package sdk
