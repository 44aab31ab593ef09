// Command abi3 is a test guest that claims a Wasm ABI version the host
// does not speak.
package main

//go:wasmexport vigil_abi_version
func abiVersion() uint32 { return 3 }

func main() {}
