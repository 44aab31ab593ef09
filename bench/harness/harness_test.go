package harness

import (
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRatioLine(t *testing.T) {
	got := RatioLine("scrape", "vigil/prometheus", Ratio{"cpu_per_sample", 0.914}, Ratio{"rss", math.NaN()})
	if want := "scrape ratios (vigil/prometheus): cpu_per_sample=0.91 rss=n/a"; got != want {
		t.Errorf("RatioLine = %q, want %q", got, want)
	}
}

func TestHumanCount(t *testing.T) {
	for x, want := range map[float64]string{
		950: "950", 1000: "1k", 12345: "12.3k", 100000: "100k", 1.5e6: "1.50M", 2e6: "2M", 11.951e6: "11.95M", math.NaN(): "n/a",
	} {
		if got := HumanCount(x); got != want {
			t.Errorf("HumanCount(%g) = %q, want %q", x, got, want)
		}
	}
}

func TestPercentileAndMedian(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3}
	for p, want := range map[float64]time.Duration{0: 1, 50: 3, 99: 5, 100: 5} {
		if got := Percentile(ds, p); got != want {
			t.Errorf("Percentile(%v, %g) = %v, want %v", ds, p, got, want)
		}
	}
	if got := Percentile(nil, 50); got != -1 {
		t.Errorf("Percentile(nil, 50) = %v, want -1", got)
	}
	for _, c := range []struct {
		ds   []time.Duration
		want time.Duration
	}{
		{[]time.Duration{3, 1, 2}, 2},
		{[]time.Duration{4, 1, 3, 2}, 3},
		{nil, -1},
	} {
		if got := Median(c.ds); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.ds, got, c.want)
		}
	}
}

func TestTable(t *testing.T) {
	var out strings.Builder
	tab := NewTable(&out, "figure", "vigil", "anchor", "vigil/anchor")
	ratio := tab.Compare("latency", 1, 2, FormatSeconds, LowerIsBetter)
	tab.Values("window", 3, math.NaN(), FormatSeconds, "")
	tab.Gap()
	tab.Row("size", "1 B", "2 B", "0.50", "")
	tab.Flush()
	if ratio != 0.5 {
		t.Errorf("Compare returned %g, want 0.5", ratio)
	}
	want := `figure   vigil  anchor  vigil/anchor
latency  1.00s  2.00s   0.50          (lower is better)
window   3.00s  n/a

size     1 B    2 B     0.50
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}

func TestProcRSS(t *testing.T) {
	rss, err := ProcRSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	peak, err := ProcPeakRSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if rss <= 0 || rss > peak {
		t.Errorf("ProcRSS = %d, want above 0 and at most ProcPeakRSS = %d", rss, peak)
	}
	file, err := ProcFileRSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if file < 0 || file > rss {
		t.Errorf("ProcFileRSS = %d, want at least 0 and at most ProcRSS = %d", file, rss)
	}
}

// TestTailWriterConcurrent has writers add whole lines at once, as a
// server's stdout and stderr do, while readers read the tail: every line
// read is one of those written, whole, and the tail never exceeds Max.
func TestTailWriterConcurrent(t *testing.T) {
	tw := &TailWriter{Max: 4096}
	written := map[string]bool{}
	var lines [8][]string
	for g := range lines {
		for i := range 500 {
			line := fmt.Sprintf("writer %d line %d %s", g, i, strings.Repeat("x", i%40))
			lines[g] = append(lines[g], line)
			written[line] = true
		}
	}
	check := func(tail string) {
		t.Helper()
		if len(tail) > tw.Max {
			t.Errorf("the tail holds %d bytes, more than %d", len(tail), tw.Max)
		}
		for _, l := range strings.Split(strings.TrimSuffix(tail, "\n"), "\n") {
			if l != "" && !written[l] {
				t.Fatalf("the tail holds a line never written: %q", l)
			}
		}
	}
	var wg sync.WaitGroup
	for g := range lines {
		wg.Go(func() {
			for _, l := range lines[g] {
				tw.Write([]byte(l + "\n"))
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for range 200 {
				check(tw.String())
			}
		})
	}
	wg.Wait()
	check(tw.String())
}
