package remote

import (
	"context"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/vigilmon/vigil/core/tsdb"
	"github.com/vigilmon/vigil/hclconfig"
)

const hour = int64(time.Hour / time.Millisecond)

// localStore is a store with local_metric{job="b"} every 10s from the
// second hour to the third.
func localStore(t *testing.T) *tsdb.DB {
	t.Helper()
	db, err := tsdb.Open(t.TempDir(), tsdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	app := db.AppenderV2(context.Background())
	for ts := 2 * hour; ts <= 3*hour; ts += 10000 {
		if _, err := app.Append(0, labels.FromStrings("__name__", "local_metric", "job", "b"), 0, ts, float64(ts), nil, nil, storage.AppendV2Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	return db
}

// readerConfig is a configuration with the external label replica="a"
// and one remote_read block "a" reading rawURL, which change changes.
func readerConfig(t *testing.T, rawURL string, change func(*hclconfig.RemoteRead)) *hclconfig.Config {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	rr := &hclconfig.RemoteRead{Name: "a", URL: u, RemoteTimeout: 10 * time.Second, ReadRecent: true, FilterExternalLabels: true}
	if change != nil {
		change(rr)
	}
	return &hclconfig.Config{
		Global:      hclconfig.Global{ExternalLabels: map[string]string{"replica": "a"}},
		RemoteReads: []*hclconfig.RemoteRead{rr},
	}
}

// read selects through q's Querier and returns the series as text, and
// the warnings.
func read(t *testing.T, q storage.Queryable, mint, maxt int64, ms ...*labels.Matcher) (string, []string) {
	t.Helper()
	querier, err := q.Querier(mint, maxt)
	if err != nil {
		t.Fatal(err)
	}
	defer querier.Close()
	ss := querier.Select(context.Background(), true, nil, ms...)
	text, err := seriesText(ss)
	if err != nil {
		t.Fatal(err)
	}
	var warnings []string
	for _, w := range ss.Warnings() {
		warnings = append(warnings, w.Error())
	}
	return text, warnings
}

// sortedLines sorts the lines of texts joined, as a merge of their
// series sorts them.
func sortedLines(texts ...string) string {
	lines := strings.SplitAfter(strings.Join(texts, ""), "\n")
	lines = slices.DeleteFunc(lines, func(l string) bool { return l == "" })
	slices.Sort(lines)
	return strings.Join(lines, "")
}

// TestReader merges a remote store, read through the remote-read handler
// of another store, with the local store: with the external labels
// filtered or not, read_recent or only for the time before the local
// store's oldest sample, required matchers, a remote store that is down,
// and a reload without the block. The remote store's streamed answers
// split its series over several frames, which must come back whole.
func TestReader(t *testing.T) {
	// Frames of 1KB split each series of the remote store over several.
	remoteDB, u := readStore(t, ReadLimits{MaxBytesInFrame: 1024})
	localDB := localStore(t)
	reader := NewReader(ReaderOptions{Local: localDB})
	defer reader.Close()
	q := reader.Queryable()
	all := labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+")
	requests := labels.MustNewMatcher(labels.MatchEqual, "__name__", "requests_total")
	api := labels.MustNewMatcher(labels.MatchEqual, "job", "api")
	const mint, maxt = 0, 4 * hour
	direct := func(db *tsdb.DB, mint, maxt int64, ms ...*labels.Matcher) string {
		text, warnings := read(t, db, mint, maxt, ms...)
		if len(warnings) > 0 {
			t.Fatal(warnings)
		}
		return text
	}
	apply := func(cfg *hclconfig.Config) {
		t.Helper()
		if err := reader.ApplyConfig(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
	}
	check := func(name, want string, mint, maxt int64, ms ...*labels.Matcher) {
		t.Helper()
		got, warnings := read(t, q, mint, maxt, ms...)
		if len(warnings) > 0 {
			t.Errorf("%s: warnings %q", name, warnings)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}

	// Without remote_read blocks, the local store alone.
	check("no remote_read", direct(localDB, mint, maxt, all), mint, maxt, all)

	// The external label replica="a", which the remote store adds to its
	// answers, is matched and taken off.
	apply(readerConfig(t, u, nil))
	want := sortedLines(direct(remoteDB, mint, maxt, all), direct(localDB, mint, maxt, all))
	if !strings.Contains(want, "requests_total") || !strings.Contains(want, "local_metric") {
		t.Fatalf("the stores lack their series:\n%s", want)
	}
	check("read_recent", want, mint, maxt, all)

	apply(readerConfig(t, u, func(rr *hclconfig.RemoteRead) { rr.FilterExternalLabels = false }))
	check("external labels kept", local(t, remoteDB, mint, maxt, requests), mint, maxt, requests)

	// Without read_recent, only the time before the local store's oldest
	// sample (the second hour) is read remotely.
	apply(readerConfig(t, u, func(rr *hclconfig.RemoteRead) { rr.ReadRecent = false }))
	check("not recent, before the local store", direct(remoteDB, mint, 2*hour, requests), mint, maxt, requests)
	check("not recent, within the local store", "", 2*hour+1, maxt, requests)

	apply(readerConfig(t, u, func(rr *hclconfig.RemoteRead) { rr.RequiredMatchers = map[string]string{"job": "api"} }))
	check("required matcher missing", "", mint, maxt, requests)
	check("required matcher present", direct(remoteDB, mint, maxt, requests, api), mint, maxt, requests, api)

	// A remote store that is down is a warning; the local store answers.
	down := httptest.NewServer(nil)
	downURL := down.URL
	down.Close()
	apply(readerConfig(t, downURL, nil))
	got, warnings := read(t, q, mint, maxt, all)
	if diff := cmp.Diff(direct(localDB, mint, maxt, all), got); diff != "" {
		t.Errorf("remote store down (-want +got):\n%s", diff)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], strings.TrimPrefix(downURL, "http://")) {
		t.Errorf("remote store down: warnings %q, want one naming %s", warnings, downURL)
	}

	apply(readerConfig(t, u, nil))
	check("remote_read back", want, mint, maxt, all)
	apply(&hclconfig.Config{})
	check("remote_read removed", direct(localDB, mint, maxt, all), mint, maxt, all)
}
