package pluginhost

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/vigilmon/vigil/sdk/wasm"
)

// fuzzModule is a module of one page of memory whose vigil_alloc returns
// the value of its exported global "ret", whatever it is asked for, and
// whose vigil_free does nothing: the fuzz target sets what the guest's
// allocator answers, as a hostile module would choose it.
func fuzzModule() []byte {
	vec := func(items ...[]byte) []byte { return append([]byte{byte(len(items))}, bytes.Join(items, nil)...) }
	name := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	section := func(id byte, content []byte) []byte { return append([]byte{id, byte(len(content))}, content...) }
	const i32, funcType, end = 0x7f, 0x60, 0x0b
	var m []byte
	m = append(m, 0x00, 'a', 's', 'm', 1, 0, 0, 0)
	m = append(m, section(1, vec([]byte{funcType, 1, i32, 1, i32}, []byte{funcType, 1, i32, 0}))...) // (i32)->i32, (i32)->()
	m = append(m, section(3, vec([]byte{0}, []byte{1}))...)                                          // alloc, free
	m = append(m, section(5, vec([]byte{1, 1, 1}))...)                                               // memory: 1 page, at most 1
	m = append(m, section(6, vec([]byte{i32, 1, 0x41, 0, end}))...)                                  // mutable i32 global = 0
	m = append(m, section(7, vec(
		append(name("memory"), 2, 0),
		append(name(wasm.ExportAlloc), 0, 0),
		append(name(wasm.ExportFree), 0, 1),
		append(name("ret"), 3, 0),
	))...)
	m = append(m, section(10, vec([]byte{4, 0, 0x23, 0, end}, []byte{2, 0, end}))...) // global.get 0; nothing
	return m
}

// FuzzHostImports calls the host functions a module imports with any
// pointers, lengths and levels, over any memory, with an allocator that
// answers any address: the bounds checks are the host's only defence
// against a module. Nothing may panic; log and http_request read only
// what lies inside the module's memory; a result handed back lies inside
// it and holds what the host wrote; and an HTTP request never reaches a
// host outside allow_hosts.
func FuzzHostImports(f *testing.F) {
	f.Add(uint8(0), uint32(2), uint32(0), uint32(5), uint32(100), []byte("hello"))
	f.Add(uint8(0), uint32(9), uint32(65530), uint32(100), uint32(0), []byte(`{"@message":"m","k":1}`))
	f.Add(uint8(1), uint32(0), uint32(0), uint32(40), uint32(65000), []byte(`{"method":"GET","url":"http://localhost:1/x"}`))
	f.Add(uint8(1), uint32(0), uint32(0), uint32(45), uint32(1024), []byte(`{"method":"GET","url":"http://example.com/x"}`))
	f.Add(uint8(1), uint32(0), uint32(0), uint32(45), uint32(1024), []byte(`{"method":"GET","url":"http://loCAlhost.:1/"}`))
	f.Add(uint8(1), uint32(0), uint32(0xffffffff), uint32(0xffffffff), uint32(0xfffffff0), []byte(nil))
	f.Add(uint8(2), uint32(0), uint32(0), uint32(10), uint32(65535), []byte("0123456789"))

	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	f.Cleanup(func() { rt.Close(ctx) })
	mod, err := rt.Instantiate(ctx, fuzzModule())
	if err != nil {
		f.Fatal(err)
	}
	mem := mod.Memory()
	ret := mod.ExportedGlobal("ret").(api.MutableGlobal)

	// The addresses HTTP requests dial, which allow_hosts must bound.
	var (
		mu     sync.Mutex
		dialed []string
	)
	p := &WasmPlugin{logger: hclog.NewNullLogger(), opts: WasmOptions{CallTimeout: time.Second, HTTPResponseLimitBytes: 1 << 10}}
	if p.allow, err = parseAllowHosts([]string{"localhost:1"}); err != nil {
		f.Fatal(err)
	}
	p.http = newHostHTTP(p)
	dialer := &net.Dialer{Timeout: time.Second}
	p.http.transport.Proxy = nil
	p.http.transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		dialed = append(dialed, addr)
		mu.Unlock()
		return dialer.DialContext(ctx, network, addr)
	}
	state := &callState{plugin: p, inst: &wasmInstance{budget: &outputBudget{limit: 1 << 10}}}
	callCtx := context.WithValue(ctx, callKey{}, state)

	f.Fuzz(func(t *testing.T, fn uint8, a, ptr, length, alloc uint32, data []byte) {
		// The memory holds data, at its start, and zeros after it.
		clear(mustRead(t, mem, 0, mem.Size()))
		mem.Write(0, data[:min(len(data), int(mem.Size()))])
		ret.Set(uint64(alloc))
		state.inst.budget.reset()
		mu.Lock()
		dialed = dialed[:0]
		mu.Unlock()

		stack := []uint64{uint64(a), uint64(ptr), uint64(length)}
		switch fn % 3 {
		case 0:
			hostLog(callCtx, mod, stack)
		case 1:
			stack = []uint64{uint64(ptr), uint64(length)}
			hostHTTPRequest(callCtx, mod, stack)
			checkResult(t, mem, stack[0], func(b []byte) {
				var resp wasm.HTTPResponse
				if err := json.Unmarshal(b, &resp); err != nil {
					t.Fatalf("http_request handed back %q, not a response: %v", b, err)
				}
			})
			mu.Lock()
			defer mu.Unlock()
			for _, addr := range dialed {
				// Host names are case-insensitive and may end in a dot,
				// as allow_hosts matches them.
				h, port, _ := net.SplitHostPort(addr)
				h = strings.TrimSuffix(strings.ToLower(h), ".")
				if (h != "localhost" || port != "1") && !slices.Contains([]string{"127.0.0.1", "::1"}, h) {
					t.Fatalf("http_request of %q dialed %s, outside allow_hosts", readRequestURL(mem, ptr, length), addr)
				}
			}
		case 2:
			checkResult(t, mem, writeGuest(callCtx, mod, data), func(b []byte) {
				if !bytes.Equal(b, data) {
					t.Fatalf("writeGuest handed back %q, having written %q", b, data)
				}
			})
		}
	})
}

// checkResult checks a packed result a host function hands a module:
// none (0), or a range inside the memory whose bytes check accepts.
func checkResult(t *testing.T, mem api.Memory, packed uint64, check func([]byte)) {
	t.Helper()
	if packed == 0 {
		return
	}
	ptr, length := wasm.Unpack(packed)
	if uint64(ptr)+uint64(length) > uint64(mem.Size()) {
		t.Fatalf("a result of %d bytes at %#x lies outside the memory of %d bytes", length, ptr, mem.Size())
	}
	check(mustRead(t, mem, ptr, length))
}

func mustRead(t *testing.T, mem api.Memory, ptr, length uint32) []byte {
	t.Helper()
	b, ok := mem.Read(ptr, length)
	if !ok {
		t.Fatalf("cannot read %d bytes at %#x", length, ptr)
	}
	return b
}

// readRequestURL is the URL of the request at ptr, for messages.
func readRequestURL(mem api.Memory, ptr, length uint32) string {
	b, _ := mem.Read(ptr, length)
	var req wasm.HTTPRequest
	json.Unmarshal(b, &req)
	if u, err := url.Parse(req.URL); err == nil {
		return u.Redacted()
	}
	return req.URL
}
