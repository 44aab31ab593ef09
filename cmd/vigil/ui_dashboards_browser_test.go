package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vigilmon/vigil/internal/testplugins"
)

// panelStates is what dashboardPanelsJS finds of the panels of a page.
type panelStates struct {
	Total   int      `json:"total"`
	Data    int      `json:"data"`
	Waiting int      `json:"waiting"`
	Silent  []string `json:"silent"`
	Why     []string `json:"why"`
}

// dashboardPanelsJS counts the panels of the dashboard page: those
// showing data, those still waiting or loading, those saying nothing
// although they have no data (silent), and the messages of the others.
const dashboardPanelsJS = `(() => {
  const panels = Array.from(document.querySelectorAll(".dash-panel"));
  const out = {total: panels.length, data: 0, waiting: 0, silent: [], why: []};
  for (const p of panels) {
    const state = p.getAttribute("data-state");
    const msg = p.querySelector(".dash-status").textContent.trim();
    if (state === "data") out.data++;
    else if (state === "waiting" || state === "loading") out.waiting++;
    else if (msg === "") out.silent.push(p.getAttribute("data-title"));
    else out.why.push(p.getAttribute("data-title") + ": " + msg);
  }
  return out;
})()`

// unfoldRowsJS opens every folded row of the dashboard page.
const unfoldRowsJS = `document.querySelectorAll(".dash-row.collapsed .dash-row-title").forEach(e => e.click()); true`

// TestUIDashboards loads the built-in dashboards and "Node Exporter Full",
// imported from Grafana with vigil dashboard import, with the node
// exporter plugin collecting the host: every panel shows data or says why
// it has none.
func TestUIDashboards(t *testing.T) {
	requireChromium(t)
	node := testplugins.Build(t, "plugins/exporter/node")
	dir := t.TempDir()

	// The import of the fixture is a valid configuration of its own.
	imported := filepath.Join(dir, "node-exporter-full.hcl")
	cmd := exec.Command(vigilBinary(t), "dashboard", "import", filepath.Join("..", "..", "hclconfig", "grafanaimport", "testdata", "node-exporter-full.json"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("vigil dashboard import: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "125 of 125 panels carried over") {
		t.Errorf("the import's report does not say 125 of 125 panels carried over:\n%s", stderr.String())
	}
	if err := os.WriteFile(imported, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(vigilBinary(t), "config", "validate", imported).CombinedOutput(); err != nil {
		t.Fatalf("vigil config validate of the imported dashboard: %v\n%s", err, out)
	}

	srv := startSelfScrapingServer(t, fmt.Sprintf(`
dashboard_files = [%q]

plugin "node" {
  source = %q
}

exporter "node" {
  plugin   = "node"
  interval = "1s"
}
`, imported, node))
	prom := srv.api(t)
	waitFor(t, "two samples of the node exporter's CPU counters", func() bool {
		v, ok := queryValue(t, prom, `count(count_over_time(node_cpu_seconds_total[1m]) >= 2)`)
		return ok && v > 0
	})
	base := "http://" + srv.addr
	ctx := newBrowser(t)

	// The list links every dashboard.
	navigate(ctx, t, base+"/dashboards")
	links := pollPage(ctx, t, "the list of dashboards", `Array.from(document.querySelectorAll("a.dashboard-link"), a => a.getAttribute("href"))`,
		func(l []string) bool { return len(l) > 0 })
	if want := []string{"dashboards/node-exporter-full", "dashboards/node", "dashboards/vigil"}; strings.Join(links, " ") != strings.Join(want, " ") {
		t.Errorf("the list links %q, want %q", links, want)
	}

	for _, tc := range []struct {
		name   string
		panels int
		// minData is how many panels must show data at least.
		minData int
	}{
		{"vigil", 20, 16},
		{"node", 16, 16},
		{"node-exporter-full", 125, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			states := loadDashboard(ctx, t, base+"/dashboards/"+tc.name+"?range=5m")
			t.Logf("dashboard %s: %d of %d panels show data; the others say:\n%s", tc.name, states.Data, states.Total, strings.Join(states.Why, "\n"))
			if states.Total != tc.panels {
				t.Errorf("%d panels on the page, want %d", states.Total, tc.panels)
			}
			if len(states.Silent) > 0 {
				t.Errorf("panels without data that do not say why: %q", states.Silent)
			}
			if states.Data < tc.minData {
				t.Errorf("%d panels show data, want at least %d", states.Data, tc.minData)
			}
			for _, w := range states.Why {
				if strings.Contains(w, ": Error: ") {
					t.Errorf("a panel's query fails: %s", w)
				}
			}
		})
	}

	// The address holds the state: a link with a range, a variable's value
	// and a refresh opens the page with them.
	navigate(ctx, t, base+"/dashboards/node?"+url.Values{"range": {"10m"}, "var-job": {"node"}, "refresh": {"5s"}}.Encode())
	got := pollPage(ctx, t, "the state of the link", `[document.querySelector("input[name=range]").value, document.querySelector("select[name=var-job]").value, document.querySelector("select[name=refresh]").value].join(" ")`,
		func(s string) bool { return s == "10m node 5s" })
	if got != "10m node 5s" {
		t.Errorf("the page's range, job and refresh are %q", got)
	}
	// A change of the range goes into the address.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const i = document.querySelector("input[name=range]"); i.value = "30m"; i.dispatchEvent(new Event("change")); return true; })()`)); err != nil {
		t.Fatalf("set the range to 30m: %v", err)
	}
	pollPage(ctx, t, "range=30m in the address", `location.search`, func(s string) bool { return strings.Contains(s, "range=30m") })

	// A panel's link opens its queries in the query page, the variables
	// put in: the Load panel's three, over the dashboard's range.
	href := pollPage(ctx, t, "the query link of the panel Load", `document.querySelector('.dash-panel[data-title="Load"] a.dash-explore').getAttribute("href")`,
		func(s string) bool { return strings.Contains(s, "range_input=30m") })
	navigate(ctx, t, base+"/"+href)
	pollPage(ctx, t, "the three queries of Load in the query page", `document.querySelectorAll(".panel .graph").length`, func(n int) bool { return n == 3 })
	if want := `node_load1{job="node", instance=`; !strings.Contains(pollPage(ctx, t, "the first query", editorTextJS, func(s string) bool { return s != "" }), want) {
		t.Errorf("the query page's first query is not node_load1 of the chosen job and instance")
	}
}

// loadDashboard opens a dashboard, unfolds its rows and waits until every
// panel has loaded.
func loadDashboard(ctx context.Context, t *testing.T, url string) panelStates {
	t.Helper()
	navigate(ctx, t, url)
	pollPage(ctx, t, "the panels of "+url, `document.querySelectorAll(".dash-panel").length`, func(n int) bool { return n > 0 })
	pollPage(ctx, t, "the rows of "+url+" unfolded", unfoldRowsJS+` && document.querySelectorAll(".dash-row.collapsed").length === 0`, func(b bool) bool { return b })
	return pollPage(ctx, t, "every panel of "+url+" loaded", dashboardPanelsJS, func(s panelStates) bool { return s.Total > 0 && s.Waiting == 0 })
}
