//go:build !wasip1

package sdk

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestExitWithHost checks that a plugin exits once its parent process
// changes, as it does when the host dies and the plugin is re-parented.
func TestExitWithHost(t *testing.T) {
	var parent atomic.Int64
	parent.Store(4242)
	exited := make(chan struct{})
	go exitWithHost(func() int { return int(parent.Load()) }, time.Millisecond, func() { close(exited) })
	select {
	case <-exited:
		t.Fatal("exited while the host runs")
	case <-time.After(20 * time.Millisecond):
	}
	parent.Store(1)
	<-exited
}
