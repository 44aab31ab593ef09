// Package harness holds what the side-by-side benchmark programs in bench/
// (make bench-*) share: how a program starts and reports progress, how it
// runs parts of itself as child processes, how it starts the servers
// under test (StartProcess), what it measures of a process (CPU time,
// peak resident set), loopback servers and CPU profiles, a
// deterministic generator for synthetic workloads, and the report: tables
// of Vigil against its anchor, formats of the figures, and the last line
// every benchmark ends with,
//
//	<name> ratios (vigil/<anchor>): key=value ...
//
// where the table above it says for each key whether higher or lower is
// better. Start with Main, RunChild and Table.
package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/hashicorp/go-hclog"
)

// Main runs a benchmark program: run gets a context that ends on SIGINT
// or SIGTERM. When run fails, Main prints the error to stderr and exits
// with 2 for a UsageError, 1 for any other.
func Main(run func(ctx context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	stop()
	if err == nil {
		return
	}
	if mode := ChildMode(); mode != "" {
		err = fmt.Errorf("%s child: %w", mode, err)
	}
	fmt.Fprintln(os.Stderr, "bench:", err)
	var ue usageError
	if errors.As(err, &ue) {
		os.Exit(2)
	}
	os.Exit(1)
}

// usageError is an error in the command line.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// UsageError marks err as a wrong use of the command line, for which Main
// exits with 2.
func UsageError(err error) error { return usageError{err} }

// Logf prints a progress line to stderr.
func Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// Logger returns the logger a benchmark hands the code it runs, named
// name: warnings and errors go to stderr.
func Logger(name string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: name, Level: hclog.Warn, Output: os.Stderr})
}
