package scrape

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// TestScrapeOneMillionSeries scrapes a target exposing a million series in
// a body of 20 MB, within the default body size limit: the scrape is
// stored whole, though its write-ahead record is larger than one badger
// value may be, and the target is up.
func TestScrapeOneMillionSeries(t *testing.T) {
	if testing.Short() {
		t.Skip("scrapes a million series")
	}
	const n = 1_000_000
	body := make([]byte, 0, 20*n)
	for i := 0; i < n; i++ {
		body = append(body, `big{id="`...)
		body = strconv.AppendInt(body, int64(100000+i), 10)
		body = append(body, "\"} "...)
		body = strconv.AppendInt(body, int64(i%10), 10)
		body = append(body, '\n')
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		w.Write(body)
	}))
	defer srv.Close()
	// The timeout bounds the fetch alone; it is long so that a busy
	// machine does not fail the test.
	s, db := newTestScraper(t, `scrape "app" {
  scrape_interval = "10m"
  scrape_timeout  = "10m"
}`, strings.TrimPrefix(srv.URL, "http://"))
	ts := time.UnixMilli(1000000)
	h := mustScrape(t, s, ts)
	if !h.Up || h.LastError != "" || h.SamplesScraped != n {
		t.Fatalf("health %+v, want up with %d samples", h, n)
	}
	t.Logf("body of %d bytes fetched and appended in %s", len(body), h.LastDuration)

	q, err := db.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	up := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "up"))
	if !up.Next() {
		t.Fatalf("no up series: %v", up.Err())
	}
	it := up.At().Iterator(nil)
	if it.Next() != chunkenc.ValFloat {
		t.Fatal("no up sample")
	}
	if at, v := it.At(); at != ts.UnixMilli() || v != 1 {
		t.Fatalf("up = %g at %d, want 1 at %d", v, at, ts.UnixMilli())
	}

	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "big"))
	count := 0
	for ss.Next() {
		lset := ss.At().Labels()
		id, err := strconv.Atoi(lset.Get("id"))
		if err != nil || !strings.HasPrefix(lset.Get("instance"), "127.0.0.1:") {
			t.Fatalf("unexpected series %s", lset)
		}
		it = ss.At().Iterator(it)
		if it.Next() != chunkenc.ValFloat {
			t.Fatalf("series %s has no sample", lset)
		}
		if at, v := it.At(); at != ts.UnixMilli() || v != float64((id-100000)%10) || it.Next() != chunkenc.ValNone {
			t.Fatalf("series %s: sample %g at %d, want %d at %d alone", lset, v, at, (id-100000)%10, ts.UnixMilli())
		}
		count++
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	if count != n {
		t.Fatalf("%d series stored, want %d", count, n)
	}
}
