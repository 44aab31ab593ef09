package wasm

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigilmon/vigil/sdk"
)

func TestPack(t *testing.T) {
	for _, c := range [][2]uint32{{0, 0}, {1, 2}, {0xFFFFFFFF, 0xFFFFFFFF}, {0x10000, 17}} {
		v := Pack(c[0], c[1])
		if p, l := Unpack(v); p != c[0] || l != c[1] {
			t.Errorf("Unpack(Pack(%d, %d)) = %d, %d", c[0], c[1], p, l)
		}
		if v>>32 != uint64(c[0]) {
			t.Errorf("Pack(%d, %d) = %#x: the pointer is not in the high half", c[0], c[1], v)
		}
	}
}

func TestStatus(t *testing.T) {
	for s, want := range map[Status]string{StatusOK: "OK", StatusError: "ERROR", StatusBadRequest: "BAD_REQUEST", StatusNoPlugin: "NO_PLUGIN", StatusPanic: "PANIC", 9: "status(9)"} {
		if s.String() != want {
			t.Errorf("%d: %q, want %q", uint8(s), s.String(), want)
		}
	}
}

// TestHTTPMessages pins the JSON field names ABI.md documents.
func TestHTTPMessages(t *testing.T) {
	req, _ := json.Marshal(HTTPRequest{Method: "POST", URL: "https://x", Header: map[string][]string{"A": {"b"}}, Body: []byte("hi"), TimeoutMillis: 5})
	if string(req) != `{"method":"POST","url":"https://x","headers":{"A":["b"]},"body":"aGk=","timeout_ms":5}` {
		t.Errorf("request %s", req)
	}
	resp, _ := json.Marshal(HTTPResponse{Status: 200, Header: map[string][]string{"C": {"d"}}, Body: []byte("ok")})
	if string(resp) != `{"status":200,"headers":{"C":["d"]},"body":"b2s="}` {
		t.Errorf("response %s", resp)
	}
	denied, _ := json.Marshal(HTTPResponse{Error: "no", Denied: true})
	if string(denied) != `{"error":"no","denied":true}` {
		t.Errorf("denial %s", denied)
	}
}

func TestRegister(t *testing.T) {
	reset := func() {
		registry.mu.Lock()
		registry.plugin, registry.set, registry.server, registry.err = sdk.Plugin{}, false, nil, nil
		registry.mu.Unlock()
	}
	defer reset()

	reset()
	if _, err := registeredServer(); err == nil || !strings.Contains(err.Error(), "wasm.Register") {
		t.Errorf("nothing registered: %v", err)
	}
	reset()
	Register(sdk.Plugin{Info: sdk.Info{Name: "none"}})
	if _, err := registeredServer(); err == nil || !strings.Contains(err.Error(), "exactly one") {
		t.Errorf("an invalid plugin: %v", err)
	}

	reset()
	p := sdk.Plugin{Info: sdk.Info{Name: "n"}, Notifier: func(sdk.Config) (sdk.Notifier, error) { return nil, nil }}
	Register(p)
	if got, ok := Registered(); !ok || got.Info.Name != "n" {
		t.Errorf("Registered() = %+v, %v", got, ok)
	}
	if srv, err := registeredServer(); err != nil || srv.Kind() != sdk.KindNotifier {
		t.Errorf("registered: %v, %v", srv, err)
	}
	Register(p)
	if _, err := registeredServer(); err == nil || !strings.Contains(err.Error(), "more than once") {
		t.Errorf("registered twice: %v", err)
	}
}
