package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// requireBrowserEnv names the environment variable that, when set, makes a
// missing browser fail the browser tests instead of skipping them.
const requireBrowserEnv = "VIGIL_REQUIRE_BROWSER"

// browserTimeout bounds the browser part of a test: every step, and the life
// of the browser process.
const browserTimeout = 60 * time.Second

// requireChromium skips t when Chromium is not installed, or fails it when
// the environment variable VIGIL_REQUIRE_BROWSER is set.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv(requireBrowserEnv) != "" {
			t.Fatalf("%s is required (%s is set) but missing: %v", chromiumPath, requireBrowserEnv, err)
		}
		t.Skipf("needs Debian's chromium package at %s; set %s=1 to fail instead of skipping", chromiumPath, requireBrowserEnv)
	}
}

// startSelfScrapingServer starts vigil with a configuration that scrapes the
// server itself every second, and waits until `up` has a sample. The target's
// address is known only once the server listens, so the scrape is added by a
// reload.
func startSelfScrapingServer(t *testing.T) *runningServer {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "vigil.hcl")
	server := fmt.Sprintf("server {\n  data_dir = %q\n}\n", filepath.Join(dir, "data"))
	if err := os.WriteFile(cfgPath, []byte(server), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "--config", cfgPath)
	scrape := fmt.Sprintf("scrape \"vigil\" {\n  targets         = [%q]\n  scrape_interval = \"1s\"\n  scrape_timeout  = \"1s\"\n}\n", srv.addr)
	if err := os.WriteFile(cfgPath, []byte(server+scrape), 0o644); err != nil {
		t.Fatal(err)
	}
	if status, body := srv.reload(t); status != http.StatusOK {
		t.Fatalf("reload: %d %s\n%s", status, body, srv.logText())
	}
	prom := srv.api(t)
	waitFor(t, "a sample of up from the server scraping itself", func() bool {
		v, ok := queryValue(t, prom, `up{job="vigil"}`)
		return ok && v == 1
	})
	return srv
}

// lockedBuffer is a bytes.Buffer that the browser's output goroutine and the
// test can use at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p to the buffer.
func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newBrowser starts a headless Chromium and returns the context of its first
// tab. The context expires after browserTimeout, which kills the browser, and
// so does the end of the test at the latest. chromedp gives the browser a
// fresh temporary --user-data-dir, and removes it once the browser and any
// process it left are gone. The browser's output is logged when t fails.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	var output lockedBuffer
	ctx, cancelTimeout := context.WithTimeout(context.Background(), browserTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Only loopback traffic: no host name resolves, and the pages are on 127.0.0.1.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.CombinedOutput(&output),
	)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()   // closes the browser, or gives up when ctx has expired
		cancelAlloc() // kills the browser if it still runs, and waits for it
		cancelTimeout()
		if t.Failed() {
			t.Logf("browser output:\n%s", output.String())
		}
	})
	// The first step starts the browser.
	if err := chromedp.Do(tabCtx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start %s: %v\n%s", chromiumPath, err, output.String())
	}
	return tabCtx
}

// pollPage evaluates the JavaScript expression expr in the page every 100ms
// until ok accepts its result, and returns that result. It fails t when ctx
// expires first, with the last result or error. An expression that fails
// (for example while a page loads) counts as not yet.
func pollPage[T any](ctx context.Context, t *testing.T, what, expr string, ok func(T) bool) T {
	t.Helper()
	for {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
		if err == nil && ok(v) {
			return v
		}
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting for %s: last result %#v, error %v", what, v, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// resultRowsJS gives the cells of the rows of the page's result table.
const resultRowsJS = `Array.from(document.querySelectorAll("#result tbody tr"), tr => Array.from(tr.cells, td => td.textContent))`

// errorTextJS gives the text of the page's error box.
const errorTextJS = `document.getElementById("error").textContent`

// hasRow reports whether rows holds a row with exactly the cells want.
func hasRow(rows [][]string, want ...string) bool {
	return slices.ContainsFunc(rows, func(r []string) bool { return slices.Equal(r, want) })
}

// typeExpr empties the page's expression box and types keys into it, as a
// person would.
func typeExpr(keys string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Evaluate[chromedp.Void](`document.getElementById("expr").value = ""`),
		chromedp.SendKeys(chromedp.ID("expr"), keys),
	)
}

// apiError returns the error that the query API gives for expr, as the page
// shows it: "errorType: error".
func apiError(t *testing.T, addr, expr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/api/v1/query?" + url.Values{"query": {expr}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.Status != "error" || body.ErrorType == "" || body.Error == "" {
		t.Fatalf("query %q: %+v, want an error", expr, body)
	}
	return body.ErrorType + ": " + body.Error
}

func TestBrowserQueryPage(t *testing.T) {
	requireChromium(t)
	srv := startSelfScrapingServer(t)
	base := "http://" + srv.addr
	ctx := newBrowser(t)

	// ?query= fills the box, and the page runs it on load.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/?query=up")); err != nil {
		t.Fatal(err)
	}
	upRow := []string{fmt.Sprintf(`up{instance=%q, job="vigil"}`, srv.addr), "1"}
	pollPage(ctx, t, "the row of up", resultRowsJS, func(rows [][]string) bool { return hasRow(rows, upRow...) })
	if v, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("expr"))); err != nil || v != "up" {
		t.Fatalf("the box holds %q, %v; want up", v, err)
	}

	// The generator URL of an alert, /graph?g0.expr=..., opens the page
	// with its expression.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/graph?g0.expr=count%28up%29&g0.tab=1")); err != nil {
		t.Fatal(err)
	}
	pollPage(ctx, t, "the result of the generator URL's count(up)", resultRowsJS, func(rows [][]string) bool {
		return len(rows) == 1 && hasRow(rows, "{}", "1")
	})

	// A new expression typed in the box and submitted with Enter.
	if err := chromedp.Do(ctx, typeExpr("count(up)"+kb.Enter)); err != nil {
		t.Fatal(err)
	}
	pollPage(ctx, t, "the result of count(up)", resultRowsJS, func(rows [][]string) bool {
		return len(rows) == 1 && hasRow(rows, "{}", "1")
	})

	// An invalid expression submitted with the button shows the API's error.
	wantErr := apiError(t, srv.addr, "sum(")
	if err := chromedp.Do(ctx,
		typeExpr("sum("),
		chromedp.Click(chromedp.CSS(`#query button[type="submit"]`)),
	); err != nil {
		t.Fatal(err)
	}
	pollPage(ctx, t, "the error of sum(", errorTextJS, func(text string) bool { return text == wantErr })
	if rows, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](resultRowsJS)); err != nil || len(rows) != 0 {
		t.Fatalf("rows after an error: %v, %v; want none", rows, err)
	}

	// The links lead to the targets, the configuration and the metrics.
	for _, link := range []struct{ path, want string }{
		{"/api/v1/targets", `"activeTargets"`},
		{"/api/v1/status/config", `"yaml"`},
		{"/metrics", "vigil_http_requests_total"},
	} {
		if err := chromedp.Do(ctx,
			chromedp.Navigate(base+"/"),
			chromedp.Click(chromedp.CSS(`nav a[href="`+link.path+`"]`)),
		); err != nil {
			t.Fatalf("the link to %s: %v", link.path, err)
		}
		pollPage(ctx, t, "the page of the link to "+link.path,
			`[location.href, document.body ? document.body.innerText : ""]`,
			func(page []string) bool {
				return len(page) == 2 && page[0] == base+link.path && strings.Contains(page[1], link.want)
			})
	}
}
