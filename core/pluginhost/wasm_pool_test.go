package pluginhost

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigilmon/vigil/internal/concurrencytest"
)

// TestWasmPoolCallsCarryTheirOwnBytes sends notifications of many sizes
// from 16 goroutines through a pool of 4 instances. Each notification has
// the guest post a body of its own through the host's http_request and
// check the answer, which echoes it: a request, response or result frame
// read from an instance's memory after another call reused it would give
// one call another's bytes, and the guest or the comparison with the
// answer alone would see it.
func TestWasmPoolCallsCarryTheirOwnBytes(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Answer", fmt.Sprintf("len=%d", len(body)))
		w.Write(body)
	}))
	defer echo.Close()
	p := loadGuest(t, "notifier", WasmOptions{PoolSize: 4, CallTimeout: 30 * time.Second, AllowHosts: []string{"127.0.0.1"}})
	ctx := testContext(t)
	if err := p.Configure(ctx, []byte(`{"prefix": "pool: "}`)); err != nil {
		t.Fatal(err)
	}
	calls := map[string]concurrencytest.Call{}
	for i := range 24 {
		body := strings.Repeat(fmt.Sprintf("call %d;", i), 1+i*i*40) // 8 bytes to 46 KB
		want := fmt.Sprintf("200 len=%d %s", len(body), body)
		calls[fmt.Sprintf("notification %d", i)] = func() ([]byte, error) {
			n := notification("http", map[string]string{"url": echo.URL, "body": body, "want": want})
			n.GroupKey = fmt.Sprintf("{}:{call=%q}", fmt.Sprint(i))
			if err := p.Notify(ctx, n); err != nil {
				return nil, err
			}
			return []byte("delivered"), nil
		}
	}
	concurrencytest.Compare(t, 16, 6, calls)
	if s := p.Stats(); s.Discarded != 0 {
		t.Errorf("instances discarded: %+v", s)
	}
}
