package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vigilmon/vigil/hclconfig"
)

func TestDashboards(t *testing.T) {
	cfg, diags := hclconfig.Parse("vigil.hcl", []byte(`
dashboard "mine" {
  title = "Mine"
  panel "Up" {
    query {
      expr = "up"
    }
  }
}
dashboard "node" {
  title = "My node"
  panel "Load" {
    query {
      expr = "node_load1"
    }
  }
}
`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	current := cfg
	mux := http.NewServeMux()
	New(Sources{Config: func() *hclconfig.Config { return current }}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	get := func(path string, data any) int {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Data json.RawMessage }
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		if data != nil && resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal(body.Data, data); err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
		}
		return resp.StatusCode
	}
	titles := func() map[string]string {
		var list []dashboardSummary
		get("/api/v1/dashboards", &list)
		out := map[string]string{}
		for _, d := range list {
			out[d.Name] = d.Title
		}
		return out
	}
	// The configuration's "node" takes the place of the built-in one.
	if got := titles(); len(got) != 3 || got["mine"] != "Mine" || got["node"] != "My node" || got["vigil"] != "Vigil" {
		t.Errorf("dashboards %v, want mine, the configuration's node and the built-in vigil", got)
	}
	var d hclconfig.Dashboard
	if code := get("/api/v1/dashboards/vigil", &d); code != 200 || !d.Builtin || len(d.Rows) == 0 || len(d.Variables) == 0 {
		t.Errorf("GET /api/v1/dashboards/vigil: %d, %+v", code, d)
	}
	if code := get("/api/v1/dashboards/none", nil); code != http.StatusNotFound {
		t.Errorf("GET /api/v1/dashboards/none: %d, want 404", code)
	}

	// A reload that turns the built-in dashboards off leaves the
	// configuration's.
	current, diags = hclconfig.Parse("vigil.hcl", []byte(`
server {
  builtin_dashboards = false
}
dashboard "mine" {
  panel "Up" {
    query {
      expr = "up"
    }
  }
}
`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if got := titles(); len(got) != 1 || got["mine"] != "mine" {
		t.Errorf("dashboards after the reload %v, want mine alone", got)
	}
}
