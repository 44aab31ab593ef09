package client

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// TestLineLoggerJoinsChunks: lines split across writes are logged whole,
// one log line each, empty ones not at all, and a line longer than
// maxLoggedLine is cut there.
func TestLineLoggerJoinsChunks(t *testing.T) {
	var out bytes.Buffer
	l := &lineLogger{logger: hclog.New(&hclog.LoggerOptions{Output: &out, DisableTime: true})}
	long := strings.Repeat("x", maxLoggedLine+100)
	for _, chunk := range []string{"first li", "ne\n\nsecond\r\nthi", "rd\n", long[:10], long[10:] + "\n", "unfinished"} {
		if n, err := l.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", chunk, n, err)
		}
	}
	want := "[INFO]  first line: stream=stderr\n[INFO]  second: stream=stderr\n[INFO]  third: stream=stderr\n[INFO]  " + long[:maxLoggedLine] + ": stream=stderr\n"
	if out.String() != want {
		t.Errorf("logged:\n%q\nwant:\n%q", out.String(), want)
	}
}

// TestLineLoggerConcurrentWriters: writers that each write whole lines
// at once, many at the same time, get each line logged whole and once,
// as written one after the other would; the line buffer the logger
// reuses between writes never mixes two writers' lines.
func TestLineLoggerConcurrentWriters(t *testing.T) {
	var mu sync.Mutex
	var out bytes.Buffer
	l := &lineLogger{logger: hclog.New(&hclog.LoggerOptions{Output: &lockedWriter{mu: &mu, w: &out}, DisableTime: true})}
	const writers, lines = 16, 200
	want := map[string]int{}
	var wg sync.WaitGroup
	for w := range writers {
		for i := range lines {
			want[fmt.Sprintf("[INFO]  writer %d line %d %s: stream=stderr", w, i, strings.Repeat("x", i%50))]++
		}
		wg.Go(func() {
			for i := range lines {
				// Two lines in one write, as go-plugin forwards chunks.
				if i%2 == 1 {
					continue
				}
				chunk := fmt.Sprintf("writer %d line %d %s\nwriter %d line %d %s\n", w, i, strings.Repeat("x", i%50), w, i+1, strings.Repeat("x", (i+1)%50))
				if _, err := l.Write([]byte(chunk)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	got := map[string]int{}
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		got[line]++
	}
	if len(got) != len(want) {
		t.Fatalf("logged %d distinct lines, want %d", len(got), len(want))
	}
	for line, n := range want {
		if got[line] != n {
			t.Errorf("line %q logged %d times, want %d", line, got[line], n)
		}
	}
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (lw *lockedWriter) Write(b []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.w.Write(b)
}
