package testplugins

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Environment variables that make a missing toolchain of a plugin in
// another language fail its tests instead of skipping them; CI sets them.
const (
	RequirePythonGRPCEnv = "VIGIL_REQUIRE_PYTHON_GRPC"
	RequireRustWasmEnv   = "VIGIL_REQUIRE_RUST_WASM"
)

// Python is the interpreter the Python example plugins run under: Debian's
// /usr/bin/python3, named by their first line, with grpcio, its tools and
// cryptography (python3-grpcio, python3-grpc-tools, python3-cryptography).
// Without it, t is skipped, or fails when RequirePythonGRPCEnv is set.
const Python = "/usr/bin/python3"

// RequirePythonGRPC skips t, or fails it when RequirePythonGRPCEnv is set,
// unless Python imports what the Python example plugins need.
func RequirePythonGRPC(t testing.TB) {
	t.Helper()
	out, err := exec.Command(Python, "-c", "import grpc, grpc_tools.protoc, cryptography, google.protobuf").CombinedOutput()
	if err == nil {
		return
	}
	missing(t, RequirePythonGRPCEnv, "python3 with grpcio, grpc_tools and cryptography (apt-get install python3-grpcio python3-grpc-tools python3-cryptography)",
		err, out)
}

// Rustc is the Rust compiler the Rust example plugins are built with:
// Debian's, whose wasm32 standard library is libstd-rust-dev-wasm32.
const Rustc = "/usr/bin/rustc"

// BuildRustWasm compiles the Rust source file src, relative to the
// module's root, with Rustc into a WebAssembly module (a cdylib for
// wasm32-wasi, optimized) once per test process, and returns its path.
// Without Rustc and its wasm32 standard library t is skipped, or fails
// when RequireRustWasmEnv is set.
func BuildRustWasm(t testing.TB, src string) string {
	t.Helper()
	if _, err := os.Stat(Rustc); err != nil {
		missing(t, RequireRustWasmEnv, "rustc (apt-get install rustc libstd-rust-dev-wasm32)", err, nil)
	}
	if out, err := exec.Command(Rustc, "--print", "sysroot").Output(); err != nil {
		missing(t, RequireRustWasmEnv, "rustc (apt-get install rustc libstd-rust-dev-wasm32)", err, out)
	} else if _, err := os.Stat(filepath.Join(strings.TrimSpace(string(out)), "lib/rustlib/wasm32-wasi/lib")); err != nil {
		missing(t, RequireRustWasmEnv, "rustc's wasm32-wasi standard library (apt-get install libstd-rust-dev-wasm32)", err, nil)
	}
	mu.Lock()
	defer mu.Unlock()
	key := src + ".rustc"
	if path, ok := built[key]; ok {
		return path
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatalf("cannot find the module: %v", err)
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "vigil-test-plugins"); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, strings.ReplaceAll(strings.TrimSuffix(src, ".rs"), "/", "-")+".wasm")
	cmd := exec.Command(Rustc, "--edition=2021", "--crate-type=cdylib", "--target=wasm32-wasi",
		"-C", "opt-level=s", "-C", "strip=symbols", "-o", out, src)
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cannot build %s: %v\n%s", src, err, msg)
	}
	built[key] = out
	return out
}

// missing skips t for lack of what, or fails it when the variable env is set.
func missing(t testing.TB, env, what string, err error, out []byte) {
	t.Helper()
	detail := err.Error()
	if out = bytes.TrimSpace(out); len(out) > 0 {
		detail += ": " + string(out)
	}
	if os.Getenv(env) != "" {
		t.Fatalf("needs %s (%s is set): %s", what, env, detail)
	}
	t.Skipf("needs %s; set %s=1 to fail instead of skipping: %s", what, env, detail)
}
