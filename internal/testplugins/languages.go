package testplugins

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// RequirePythonGRPCEnv names the environment variable that makes a
// missing Python toolchain fail the tests of the Python example plugins
// instead of skipping them; CI sets it.
const RequirePythonGRPCEnv = "VIGIL_REQUIRE_PYTHON_GRPC"

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
