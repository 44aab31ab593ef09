// Package concurrencytest proves that code answers the same under load as
// alone, for everything that reuses memory across requests: pools,
// buffers, slabs, iterators. Start with Compare.
package concurrencytest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

// Call is one request of a concurrency test: it returns the answer as
// bytes to compare, or an error.
type Call func() ([]byte, error)

// Compare proves that calls give the same answers under load as
// alone: it runs each call once, one after the other, for its reference
// answer; then runs every call rounds times from workers goroutines at
// once, and fails the test with the number of answers that differ from
// their reference, byte for byte, and the first few of them. Anything
// that reuses memory across requests (pools, buffers, slabs) is tested
// with it.
func Compare(t testing.TB, workers, rounds int, calls map[string]Call) {
	t.Helper()
	names := make([]string, 0, len(calls))
	for name := range calls {
		names = append(names, name)
	}
	slices.Sort(names)
	want := make(map[string][]byte, len(calls))
	for _, name := range names {
		b, err := calls[name]()
		if err != nil {
			t.Fatalf("%s alone: %v", name, err)
		}
		want[name] = b
	}

	jobs := make(chan string)
	var (
		mu       sync.Mutex
		diffs    []string
		answers  int
		failures []error
	)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for name := range jobs {
				got, err := calls[name]()
				mu.Lock()
				answers++
				switch {
				case err != nil:
					failures = append(failures, fmt.Errorf("%s: %w", name, err))
				case string(got) != string(want[name]):
					diffs = append(diffs, fmt.Sprintf("%s: %s", name, firstDifference(got, want[name])))
				}
				mu.Unlock()
			}
		})
	}
	for range rounds {
		for _, name := range names {
			jobs <- name
		}
	}
	close(jobs)
	wg.Wait()
	for i, err := range failures {
		if i == 3 {
			break
		}
		t.Errorf("under load: %v", err)
	}
	if len(diffs) > 0 {
		shown := diffs[:min(3, len(diffs))]
		t.Errorf("%d of %d answers from %d goroutines differ from the answer alone; the first:\n%s", len(diffs), answers, workers, fmt.Sprint(shown))
	}
}

// firstDifference shows where got first differs from want, with 80 bytes
// of context on either side.
func firstDifference(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(0, i-80)
	return fmt.Sprintf("at byte %d of %d (want %d):\n got  …%s…\n want …%s…", i, len(got), len(want), got[from:min(len(got), i+80)], want[from:min(len(want), i+80)])
}
