package pluginhost

import (
	"context"
	"encoding/binary"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// wasmSection encodes a section of a module.
func wasmSection(id byte, payload ...byte) []byte {
	return append(binary.AppendUvarint([]byte{id}, uint64(len(payload))), payload...)
}

// wasmBody encodes a function body of the code section, with its size.
func wasmBody(body ...byte) []byte {
	return append(binary.AppendUvarint(nil, uint64(len(body))), body...)
}

// loopModule is a module with a memory (unless noMemory), exporting
// "spin", a loop without end, and "count" (n i32) -> i32, a loop that
// counts to n, and extra exports.
func loopModule(noMemory bool, exports ...[]byte) []byte {
	// spin: loop; br 0; end
	spin := wasmBody(0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b)
	// count: local i; loop; i = i + 1; br_if (i < n) 0; end; i
	count := wasmBody(0x01, 0x01, 0x7f,
		0x03, 0x40,
		0x20, 0x01, 0x41, 0x01, 0x6a, 0x21, 0x01,
		0x20, 0x01, 0x20, 0x00, 0x49, 0x0d, 0x00,
		0x0b,
		0x20, 0x01, 0x0b)
	return wasmModule(noMemory, exports, spin, count)
}

// wasmModule is a module with a memory (unless noMemory) and two
// functions of the given bodies, () -> () and (i32) -> i32, exported as
// "spin" and "count", and extra exports.
func wasmModule(noMemory bool, exports [][]byte, spin, count []byte) []byte {
	m := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
	m = append(m, wasmSection(1, 0x02, 0x60, 0x00, 0x00, 0x60, 0x01, 0x7f, 0x01, 0x7f)...)
	m = append(m, wasmSection(3, 0x02, 0x00, 0x01)...)
	if !noMemory {
		m = append(m, wasmSection(5, 0x01, 0x00, 0x01)...)
	}
	ex := []byte{byte(2 + len(exports)), 0x04, 's', 'p', 'i', 'n', 0x00, 0x00, 0x05, 'c', 'o', 'u', 'n', 't', 0x00, 0x01}
	for _, e := range exports {
		ex = append(ex, e...)
	}
	m = append(m, wasmSection(7, ex...)...)
	code := append(append([]byte{0x02}, spin...), count...)
	return append(m, wasmSection(10, code...)...)
}

// instantiateInstrumented compiles the instrumented code and starts an
// instance of it.
func instantiateInstrumented(t *testing.T, code []byte) api.Module {
	t.Helper()
	ctx := context.Background()
	instrumented, err := instrumentModule(code)
	if err != nil {
		t.Fatal(err)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
	t.Cleanup(func() { rt.Close(ctx) })
	mod, err := rt.Instantiate(ctx, instrumented)
	if err != nil {
		t.Fatal(err)
	}
	return mod
}

func TestInstrumentModuleKeepsWhatCodeDoes(t *testing.T) {
	mod := instantiateInstrumented(t, loopModule(false))
	// More iterations than interruptPeriod, so the countdown is reset.
	for _, n := range []uint64{1, 10, 3*interruptPeriod + 7} {
		res, err := mod.ExportedFunction("count").Call(context.Background(), n)
		if err != nil || res[0] != n {
			t.Errorf("count(%d) = %v, %v", n, res, err)
		}
	}
	if g, ok := mod.ExportedGlobal(interruptExport).(api.MutableGlobal); !ok || g.Get() != 0 {
		t.Errorf("the interrupt flag is %v", mod.ExportedGlobal(interruptExport))
	}
}

// TestInstrumentModuleInterrupts stops a loop without end with the flag,
// and has the garbage collector run while the loop does: the loop leaves
// the compiled code often enough for the collector to stop it.
func TestInstrumentModuleInterrupts(t *testing.T) {
	mod := instantiateInstrumented(t, loopModule(false))
	done := make(chan error, 1)
	go func() {
		_, err := mod.ExportedFunction("spin").Call(context.Background())
		done <- err
	}()
	gc := make(chan struct{})
	go func() {
		for range 3 {
			runtime.GC()
		}
		close(gc)
	}()
	select {
	case <-gc:
	case <-time.After(time.Minute):
		t.Fatal("the garbage collector did not finish while the module looped")
	}
	select {
	case err := <-done:
		t.Fatalf("spin returned before the interrupt: %v", err)
	default:
	}
	mod.ExportedGlobal(interruptExport).(api.MutableGlobal).Set(1)
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "unreachable") {
			t.Errorf("spin: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the interrupt did not stop the loop")
	}
}

func TestInstrumentModuleWithoutMemoryOrGlobals(t *testing.T) {
	mod := instantiateInstrumented(t, loopModule(true))
	if res, err := mod.ExportedFunction("count").Call(context.Background(), 5000); err != nil || res[0] != 5000 {
		t.Errorf("count(5000) = %v, %v", res, err)
	}
}

// TestInstrumentModuleStart: the start function is not run as the module
// is instantiated, where no interrupt could stop it, but exported for the
// host to call.
func TestInstrumentModuleStart(t *testing.T) {
	m := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
	m = append(m, wasmSection(1, 0x01, 0x60, 0x00, 0x00)...)
	m = append(m, wasmSection(3, 0x01, 0x00)...)
	m = append(m, wasmSection(5, 0x01, 0x00, 0x01)...)
	m = append(m, wasmSection(7, 0x01, 0x03, 'm', 'e', 'm', 0x02, 0x00)...)
	m = append(m, wasmSection(8, 0x00)...)
	// start: memory[0] = 1
	m = append(m, wasmSection(10, append([]byte{0x01}, wasmBody(0x00, 0x41, 0x00, 0x41, 0x01, 0x36, 0x02, 0x00, 0x0b)...)...)...)
	mod := instantiateInstrumented(t, m)
	if v, _ := mod.Memory().ReadUint32Le(0); v != 0 {
		t.Fatalf("the start function ran as the module was instantiated")
	}
	if _, err := mod.ExportedFunction(startExport).Call(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v, _ := mod.Memory().ReadUint32Le(0); v != 1 {
		t.Errorf("memory[0] = %d after calling %s, want 1", v, startExport)
	}
}

func TestInstrumentModuleRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		code []byte
		want string
	}{
		"not wasm":       {[]byte("hello, world"), "not a WebAssembly binary"},
		"truncated":      {loopModule(false)[:40], "runs past the end"},
		"reserved name":  {loopModule(false, append(appendName(nil, interruptExport), 0x00, 0x00)), "the host keeps for itself"},
		"reserved start": {loopModule(false, append(appendName(nil, startExport), 0x00, 0x00)), "the host keeps for itself"},
		// global.set 0 in a module without globals: after instrumenting
		// it would be the countdown.
		"global it lacks": {wasmModule(false, nil,
			wasmBody(0x00, 0x41, 0x00, 0x24, 0x00, 0x0b), wasmBody(0x00, 0x41, 0x00, 0x0b)), "global 0"},
	} {
		_, err := instrumentModule(tc.code)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, tc.want)
		}
	}
}
