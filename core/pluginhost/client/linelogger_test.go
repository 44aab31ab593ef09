package client

import (
	"bytes"
	"strings"
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
