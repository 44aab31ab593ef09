// Command minimal is a test guest written against ABI.md alone, without
// package sdk/wasm or protobuf code, as a module in another language
// would be, of ABI version 1: a notifier (or, built with
// -ldflags=-X=main.kind=1, an exporter that collects nothing, and with
// -ldflags=-X=main.kind=2, a discoverer) that accepts any config and
// delivers nothing.
package main

import "unsafe"

// kind is the plugin's kind as plugin.proto numbers it.
var kind = "3"

// buffers keeps the buffers lent to the host alive, by address.
var buffers = map[uint32][]byte{}

func lend(b []byte) uint32 {
	p := uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
	buffers[p] = b
	return p
}

// result lends a result frame: status OK and the encoded response.
func result(response []byte) uint64 {
	frame := append([]byte{0}, response...)
	return uint64(lend(frame))<<32 | uint64(len(frame))
}

// field appends a protobuf field of wire type 2 (bytes) or 0 (varint).
func field(b []byte, num int, s string) []byte {
	b = append(b, byte(num<<3|2), byte(len(s)))
	return append(b, s...)
}

func varint(b []byte, num int, v byte) []byte { return append(b, byte(num<<3), v) }

//go:wasmexport vigil_abi_version
func abiVersion() uint32 { return 1 }

//go:wasmexport vigil_alloc
func alloc(size uint32) uint32 { return lend(make([]byte, max(size, 1))) }

//go:wasmexport vigil_free
func free(ptr uint32) { delete(buffers, ptr) }

//go:wasmexport vigil_info
func info(ptr, size uint32) uint64 {
	var b []byte
	b = field(b, 1, "minimal")
	b = field(b, 2, "0.0.1")
	b = varint(b, 3, kind[0]-'0')
	b = varint(b, 4, 1)
	return result(b)
}

//go:wasmexport vigil_schema
func schema(ptr, size uint32) uint64 { return result(nil) }

//go:wasmexport vigil_configure
func configure(ptr, size uint32) uint64 { return result(nil) }

//go:wasmexport vigil_collect
func collect(ptr, size uint32) uint64 { return result(nil) }

//go:wasmexport vigil_notify
func notify(ptr, size uint32) uint64 { return result(nil) }

func main() {}
