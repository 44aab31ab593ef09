package server

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPushOnlyWhenEnabled starts a server without enable_push, then one
// with it: only the second answers pushes, keeps them under DATA/push and
// runs the pushgateway target; wiping needs the admin API too, as in the
// Pushgateway.
func TestPushOnlyWhenEnabled(t *testing.T) {
	for name, tc := range map[string]struct {
		server          string
		push, wipe, dir bool
	}{
		"off":        {server: ``, push: false},
		"on":         {server: `enable_push = true`, push: true, dir: true},
		"with admin": {server: "enable_push = true\n  enable_admin_api = true", push: true, wipe: true, dir: true},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "vigil.hcl")
			src := fmt.Sprintf("server {\n  listen   = \"127.0.0.1:0\"\n  data_dir = %q\n  %s\n}\n", filepath.Join(dir, "data"), tc.server)
			if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			srv, err := New(ctx, Options{ConfigFile: file})
			if err != nil {
				t.Fatal(err)
			}
			ran := make(chan error, 1)
			go func() { ran <- srv.Run(ctx) }()
			defer func() {
				cancel()
				if err := <-ran; err != nil {
					t.Error(err)
				}
			}()
			status := func(method, path, body string) int {
				req, _ := http.NewRequest(method, "http://"+srv.Addr()+path, strings.NewReader(body))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			want := map[bool]int{true: http.StatusOK, false: http.StatusNotFound}
			if got := status(http.MethodPut, "/metrics/job/batch", "m 1\n"); got != want[tc.push] {
				t.Errorf("push: %d, want %d", got, want[tc.push])
			}
			if got := status(http.MethodGet, "/push/metrics", ""); got != want[tc.push] {
				t.Errorf("/push/metrics: %d, want %d", got, want[tc.push])
			}
			wantWipe := map[bool]int{true: http.StatusAccepted, false: http.StatusNotFound}
			if got := status(http.MethodPut, "/api/v1/admin/wipe", ""); got != wantWipe[tc.wipe] {
				t.Errorf("wipe: %d, want %d", got, wantWipe[tc.wipe])
			}
			if _, err := os.Stat(filepath.Join(dir, "data", "push")); (err == nil) != tc.dir {
				t.Errorf("DATA/push exists: %v, want %v", err == nil, tc.dir)
			}
			var pools []string
			for _, tg := range srv.scrapes.Targets() {
				pools = append(pools, tg.ScrapePool)
			}
			if got := strings.Contains(strings.Join(pools, ","), PushJob); got != tc.push {
				t.Errorf("targets %v", pools)
			}
		})
	}
}
