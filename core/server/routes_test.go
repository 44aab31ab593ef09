package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/bcrypt"

	"github.com/vigilmon/vigil/core/auth"
)

// newUnstartedServer makes, without running it, a server or an agent whose
// server block holds block.
func newUnstartedServer(t *testing.T, block string, agent bool) *Server {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "vigil.hcl")
	src := fmt.Sprintf("server {\n  listen = \"127.0.0.1:0\"\n  data_dir = %q\n%s\n}\n", filepath.Join(dir, "data"), block)
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, err := New(context.Background(), Options{ConfigFile: file, Agent: agent})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// TestEveryRouteHasAccess keeps routeAccess whole: every route of a
// server with every optional endpoint, and of an agent, is listed there,
// and every route listed is registered by one of them. A server with a
// route not listed does not start.
func TestEveryRouteHasAccess(t *testing.T) {
	server := newUnstartedServer(t, `
  enable_admin_api = true
  enable_push = true
  enable_remote_write_receiver = true
  enable_otlp_receiver = true`, false)
	agent := newUnstartedServer(t, "", true)
	registered := map[string]bool{}
	for _, p := range append(server.routePatterns, agent.routePatterns...) {
		registered[p] = true
		if _, ok := accessOf(p); !ok {
			t.Errorf("route %q has no access", p)
		}
	}
	for p := range routeAccess {
		if !registered[p] {
			t.Errorf("routeAccess lists %q, which neither the server nor the agent registers", p)
		}
	}
	for p := range confinedRoutes {
		if !registered[p] {
			t.Errorf("confinedRoutes lists %q, which neither the server nor the agent registers", p)
		}
	}
	r := newRoutes()
	r.HandleFunc("GET /api/v1/new", func(http.ResponseWriter, *http.Request) {})
	if err := r.check(); err == nil || !strings.Contains(err.Error(), `"GET /api/v1/new"`) {
		t.Errorf("a route without access: %v", err)
	}
}

// TestRoles sends requests of each role to routes of each access, to a
// server with an auth block: no credentials get 401, a role that does
// not allow the route 403, the others the route's answer.
func TestRoles(t *testing.T) {
	users := ""
	for _, role := range []string{"viewer", "writer", "operator", "admin"} {
		h, err := bcrypt.GenerateFromPassword([]byte(role+"-pass"), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		users += fmt.Sprintf("    user %q {\n      password_hash = %q\n      role = %q\n    }\n", role, h, role)
	}
	sum := sha256.Sum256([]byte("ci-token"))
	dir := t.TempDir()
	addr := startTestServer(t, fmt.Sprintf(`
  enable_remote_write_receiver = true
  enable_lifecycle = true
  auth {
%s    token "ci" {
      sha256 = %q
      role = "writer"
    }
  }
  audit {
    file = %q
  }
`, users, hex.EncodeToString(sum[:]), filepath.Join(dir, "audit.log")))
	now := time.Now().UTC()
	silence := fmt.Sprintf(`{"matchers":[{"name":"a","value":"b","isRegex":false}],"startsAt":%q,"endsAt":%q,"createdBy":"x","comment":"x"}`,
		now.Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))
	type request struct{ method, path, body string }
	// want is the status for no credentials, then for each role.
	for _, tc := range []struct {
		request
		none, viewer, writer, operator, admin int
	}{
		{request{"GET", "/-/healthy", ""}, 401, 200, 200, 200, 200},
		{request{"GET", "/api/v1/query?query=1", ""}, 401, 200, 403, 200, 200},
		{request{"POST", "/api/v1/query", "query=1"}, 401, 200, 403, 200, 200},
		{request{"GET", "/metrics", ""}, 401, 200, 403, 200, 200},
		{request{"GET", "/api/v1/nope", ""}, 401, 404, 404, 404, 404},
		{request{"OPTIONS", "/api/v1/query", ""}, 200, 200, 200, 200, 200},
		{request{"POST", "/api/v1/write", ""}, 401, 403, 400, 400, 400},
		{request{"POST", "/api/v2/alerts", `[{"labels":{"alertname":"A"}}]`}, 401, 403, 200, 200, 200},
		{request{"POST", "/api/v2/silences", silence}, 401, 403, 403, 200, 200},
		{request{"POST", "/-/reload", ""}, 401, 403, 403, 200, 200},
		{request{"GET", "/api/v1/status/config", ""}, 401, 403, 403, 403, 200},
		{request{"GET", "/api/v1/dashboards", ""}, 401, 200, 403, 200, 200},
		{request{"GET", "/api/v1/dashboards/node", ""}, 401, 200, 403, 200, 200},
		{request{"GET", "/dashboards/node", ""}, 401, 200, 403, 200, 200},
		{request{"GET", "/debug/pprof/", ""}, 401, 403, 403, 403, 200},
		{request{"POST", "/api/v1/admin/tsdb/clean_tombstones", ""}, 401, 403, 403, 403, 204},
	} {
		for i, role := range []string{"", "viewer", "writer", "operator", "admin"} {
			want := []int{tc.none, tc.viewer, tc.writer, tc.operator, tc.admin}[i]
			req, err := http.NewRequest(tc.method, "http://"+addr+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.body != "" && strings.HasPrefix(tc.body, "query=") {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			} else if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if role != "" {
				req.SetBasicAuth(role, role+"-pass")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("%s %s as %q: %d, want %d: %s", tc.method, tc.path, role, resp.StatusCode, want, body)
			}
			if resp.StatusCode == 401 && !strings.Contains(resp.Header.Get("WWW-Authenticate"), `realm="`+auth.Realm+`"`) {
				t.Errorf("%s %s: 401 without WWW-Authenticate", tc.method, tc.path)
			}
			if tc.path == "/api/v1/status/config" && resp.StatusCode == 200 {
				var status struct{ Data struct{ YAML string } }
				if err := json.Unmarshal(body, &status); err != nil {
					t.Fatal(err)
				}
				if strings.Contains(status.Data.YAML, "$2a$") || strings.Contains(status.Data.YAML, hex.EncodeToString(sum[:])) ||
					!strings.Contains(status.Data.YAML, `password_hash = "<secret>"`) {
					t.Errorf("the configuration shows the hashes:\n%s", status.Data.YAML)
				}
			}
		}
	}
	// Each line is written as its request is answered: the last one, the
	// admin's clean_tombstones, may follow its answer.
	var log []byte
	deadline := time.Now().Add(time.Minute)
	for {
		var err error
		if log, err = os.ReadFile(filepath.Join(dir, "audit.log")); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(log), `"action":"POST /api/v1/admin/tsdb/clean_tombstones","outcome":"done"`) || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, want := range []string{
		`"action":"POST /-/reload","outcome":"done","path":"/-/reload","remote":"127.0.0.1:`,
		`"role":"operator","status":200,"who":"user operator"`,
		`"action":"POST /api/v2/silences","outcome":"refused","path":"/api/v2/silences","remote":"127.0.0.1:`,
		`"action":"POST /api/v1/admin/tsdb/clean_tombstones","outcome":"done"`,
		`"action":"POST /api/v1/write","outcome":"failed"`,
	} {
		if !strings.Contains(string(log), want) {
			t.Errorf("the audit log lacks %s:\n%s", want, log)
		}
	}
	if strings.Contains(string(log), "GET /api/v1/query") {
		t.Errorf("reads are in the audit log:\n%s", log)
	}
}

// TestReloadAppliesAuth has a reload apply a changed auth block at once:
// a user added can sign in, one removed no longer can, and an auth block
// that does not load leaves the running one.
func TestReloadAppliesAuth(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "vigil.hcl")
	write := func(users ...string) {
		t.Helper()
		src := fmt.Sprintf("server {\n  listen = \"127.0.0.1:0\"\n  data_dir = %q\n  auth {\n", filepath.Join(dir, "data"))
		for _, u := range users {
			h, err := bcrypt.GenerateFromPassword([]byte(u+"-pass"), bcrypt.MinCost)
			if err != nil {
				t.Fatal(err)
			}
			src += fmt.Sprintf("    user %q {\n      password_hash = %q\n      role = \"viewer\"\n    }\n", u, h)
		}
		if len(users) == 0 {
			src += "    jwt {\n      jwks_file = \"missing.json\"\n      issuer = \"i\"\n      audience = \"a\"\n    }\n"
		}
		if err := os.WriteFile(file, []byte(src+"  }\n}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("alice")
	ctx, cancel := context.WithCancel(context.Background())
	log := &syncLog{}
	srv, err := New(ctx, Options{ConfigFile: file, Logger: hclog.New(&hclog.LoggerOptions{Output: log})})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- srv.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	status := func(user string) int {
		t.Helper()
		req, err := http.NewRequest("GET", "http://"+srv.Addr()+"/api/v1/status/buildinfo", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(user, user+"-pass")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if a, b := status("alice"), status("bob"); a != 200 || b != 401 {
		t.Fatalf("before the reload: alice %d, bob %d", a, b)
	}
	if !strings.Contains(log.String(), "auth block but no tls block: passwords and tokens cross the network in clear text") {
		t.Errorf("no warning of credentials in clear text:\n%s", log.String())
	}
	write("bob")
	if err := srv.Reload(); err != nil {
		t.Fatal(err)
	}
	if a, b := status("alice"), status("bob"); a != 401 || b != 200 {
		t.Errorf("after the reload: alice %d, bob %d", a, b)
	}
	write() // a jwt block whose JWKS file is missing
	if err := srv.Reload(); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("a reload with a missing JWKS file: %v", err)
	}
	if b := status("bob"); b != 200 {
		t.Errorf("after a refused reload, bob %d", b)
	}
}

// syncLog keeps what the server's goroutines log, one write at a time.
type syncLog struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
