package main

import (
	"runtime"
	"testing"
	"time"
)

// TestLeftovers runs a shell that leaves a process behind, and one that
// does not: only the first fails.
func TestLeftovers(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux lets a process adopt orphans")
	}
	grace = 200 * time.Millisecond
	if code := run([]string{"sh", "-c", "sleep 60 & exit 0"}); code != 1 {
		t.Errorf("a command that leaves a process behind: exit %d, want 1", code)
	}
	if code := run([]string{"sh", "-c", "true"}); code != 0 {
		t.Errorf("a command that leaves nothing: exit %d, want 0", code)
	}
	if code := run([]string{"sh", "-c", "exit 3"}); code != 3 {
		t.Errorf("a failing command: exit %d, want 3", code)
	}
}
