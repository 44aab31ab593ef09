//go:build wasip1

package main

import "github.com/vigilmon/vigil/sdk/wasm"

func init() { wasm.Register(httpPlugin) }

// main does not run in a module: the host calls the plugin's exports.
func main() {}
