package remote

import (
	"context"
	"fmt"
	"math"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/storage/remote"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/tsdbutil"

	"github.com/vigilmon/vigil/core/tsdb"
	"github.com/vigilmon/vigil/internal/concurrencytest"
)

// readStore is a store with three hours of floats and native histograms,
// the first two sealed into badger and the last in the head, served by
// the remote-read handler with the external label replica="a".
func readStore(t *testing.T, limits ReadLimits) (*tsdb.DB, string) {
	t.Helper()
	db, err := tsdb.Open(t.TempDir(), tsdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	app := db.AppenderV2(context.Background())
	for i := range int64(3 * 360) {
		ts := i * 10000
		for s := range 5 {
			ls := labels.FromStrings("__name__", "requests_total", "job", "api", "instance", fmt.Sprint(s))
			if _, err := app.Append(0, ls, 0, ts, float64(i*int64(s+1)), nil, nil, storage.AppendV2Options{}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := app.Append(0, labels.FromStrings("__name__", "latency", "job", "api"), 0, ts, 0, tsdbutil.GenerateTestHistogram(i), nil, storage.AppendV2Options{}); err != nil {
			t.Fatal(err)
		}
		if i == 2*360 {
			if err := app.Commit(); err != nil {
				t.Fatal(err)
			}
			if err := db.Flush(); err != nil {
				t.Fatal(err)
			}
			app = db.AppenderV2(context.Background())
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	external := func() labels.Labels { return labels.FromStrings("replica", "a") }
	srv := httptest.NewServer(NewReadHandler(nil, prometheus.NewRegistry(), db, external, limits))
	t.Cleanup(srv.Close)
	return db, srv.URL
}

// readClient is upstream's remote-read client asking for one response type.
func readClient(t *testing.T, rawURL string, typ prompb.ReadRequest_ResponseType) remote.ReadClient {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := remote.NewReadClient("test", &remote.ClientConfig{
		URL: &commoncfg.URL{URL: u}, Timeout: model.Duration(time.Minute), ChunkedReadLimit: 50 << 20,
		AcceptedResponseTypes: []prompb.ReadRequest_ResponseType{typ},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// seriesText writes a series set as lines of labels and samples.
func seriesText(ss storage.SeriesSet) (string, error) {
	var b strings.Builder
	for ss.Next() {
		s := ss.At()
		fmt.Fprintf(&b, "%s:", s.Labels())
		it := s.Iterator(nil)
		for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
			switch vt {
			case chunkenc.ValFloat:
				ts, v := it.At()
				fmt.Fprintf(&b, " %g@%d", v, ts)
			case chunkenc.ValHistogram:
				ts, h := it.AtHistogram(nil)
				fmt.Fprintf(&b, " %s@%d", h, ts)
			case chunkenc.ValFloatHistogram:
				ts, h := it.AtFloatHistogram(nil)
				fmt.Fprintf(&b, " %s@%d", h, ts)
			}
		}
		if err := it.Err(); err != nil {
			return "", err
		}
		b.WriteString("\n")
	}
	return b.String(), ss.Err()
}

// local reads the store directly, with the external label added, as the
// remote-read answer must give it.
func local(t *testing.T, db *tsdb.DB, mint, maxt int64, ms ...*labels.Matcher) string {
	t.Helper()
	q, err := db.Querier(mint, maxt)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	text, err := seriesText(q.Select(context.Background(), true, nil, ms...))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.SplitAfter(text, "\n") {
		if line != "" {
			out = append(out, strings.Replace(line, `}:`, `, replica="a"}:`, 1))
		}
	}
	return strings.Join(out, "")
}

// remoteRead reads through the client and writes the answer as text.
func remoteRead(c remote.ReadClient, mint, maxt int64, ms ...*labels.Matcher) (string, error) {
	q, err := remote.ToQuery(mint, maxt, ms, nil)
	if err != nil {
		return "", err
	}
	ss, err := c.Read(context.Background(), q, true)
	if err != nil {
		return "", err
	}
	return seriesText(ss)
}

// TestRemoteRead reads floats and native histograms, sealed and in the
// head, with upstream's client, sampled and streamed, and finds what the
// store holds, with the external labels.
func TestRemoteRead(t *testing.T) {
	db, u := readStore(t, ReadLimits{SampleLimit: 1e6, ConcurrentLimit: 2, MaxBytesInFrame: 1 << 20})
	queries := map[string]struct {
		mint, maxt int64
		ms         []*labels.Matcher
	}{
		"everything":         {math.MinInt64 / 2, math.MaxInt64 / 2, []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+")}},
		"one instance, head": {2*3600*1000 + 5000, 3 * 3600 * 1000, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "instance", "3")}},
		"histograms, across": {3600 * 1000, 2*3600*1000 + 600000, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "__name__", "latency")}},
		"nothing":            {0, 3600 * 1000, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "__name__", "absent")}},
	}
	for _, typ := range []prompb.ReadRequest_ResponseType{prompb.ReadRequest_SAMPLES, prompb.ReadRequest_STREAMED_XOR_CHUNKS} {
		c := readClient(t, u, typ)
		for name, q := range queries {
			t.Run(typ.String()+"/"+name, func(t *testing.T) {
				got, err := remoteRead(c, q.mint, q.maxt, q.ms...)
				if err != nil {
					t.Fatal(err)
				}
				want := local(t, db, q.mint, q.maxt, q.ms...)
				if name != "nothing" && want == "" {
					t.Fatal("the query selects nothing")
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("(-store +remote read):\n%s", diff)
				}
			})
		}
	}
}

// TestRemoteReadSampleLimit checks that a sampled read over the limit
// fails, while a streamed one, which the limit does not bound, does not.
func TestRemoteReadSampleLimit(t *testing.T) {
	_, u := readStore(t, ReadLimits{SampleLimit: 100, ConcurrentLimit: 0, MaxBytesInFrame: 1 << 20})
	all := labels.MustNewMatcher(labels.MatchEqual, "job", "api")
	if _, err := remoteRead(readClient(t, u, prompb.ReadRequest_SAMPLES), 0, math.MaxInt64/2, all); err == nil || !strings.Contains(err.Error(), "exceeded sample limit (100)") {
		t.Errorf("sampled read over the limit: %v", err)
	}
	if _, err := remoteRead(readClient(t, u, prompb.ReadRequest_STREAMED_XOR_CHUNKS), 0, math.MaxInt64/2, all); err != nil {
		t.Errorf("streamed read: %v", err)
	}
}

// TestRemoteReadConcurrent runs remote reads of both kinds at once and
// compares every answer with the one it gives alone: the store's
// queriers and upstream's handler reuse buffers.
func TestRemoteReadConcurrent(t *testing.T) {
	_, u := readStore(t, ReadLimits{SampleLimit: 1e6, ConcurrentLimit: 4, MaxBytesInFrame: 64 << 10})
	calls := map[string]concurrencytest.Call{}
	for _, typ := range []prompb.ReadRequest_ResponseType{prompb.ReadRequest_SAMPLES, prompb.ReadRequest_STREAMED_XOR_CHUNKS} {
		c := readClient(t, u, typ)
		for i := range 5 {
			m := labels.MustNewMatcher(labels.MatchEqual, "instance", fmt.Sprint(i))
			calls[fmt.Sprintf("%s instance %d", typ, i)] = func() ([]byte, error) {
				text, err := remoteRead(c, int64(i)*1800*1000, 3*3600*1000, m)
				return []byte(text), err
			}
		}
		calls[typ.String()+" histograms"] = func() ([]byte, error) {
			text, err := remoteRead(c, 0, 3*3600*1000, labels.MustNewMatcher(labels.MatchEqual, "__name__", "latency"))
			return []byte(text), err
		}
	}
	concurrencytest.Compare(t, 8, 3, calls)
}
