// Command noleftovers runs a command, such as go test, and fails when
// processes it started outlive it: a plugin a test started and did not
// stop, or one its server left behind when it was killed.
//
//	noleftovers go test ./...
//
// On Linux it makes itself the child subreaper of what it runs, so that
// the kernel hands it every orphan of the command instead of init. When
// the command has ended, it waits up to 10 seconds for such orphans to
// end, then names those still running, kills them and exits with status
// 1. It exits with the command's status when that is not 0. Elsewhere it
// only runs the command.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

// grace is how long orphans have to end after the command did: a plugin
// killed with its server may still be on its way out.
var grace = 10 * time.Second

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: noleftovers COMMAND [ARG...]")
		return 2
	}
	watching := true
	if err := becomeSubreaper(); err != nil {
		watching = false
		fmt.Fprintf(os.Stderr, "noleftovers: cannot watch for leftover processes: %v\n", err)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "noleftovers: cannot run %q: %v\n", args[0], err)
		return 1
	}
	go func() {
		for s := range signals {
			cmd.Process.Signal(s)
		}
	}()
	code := 0
	if err := cmd.Wait(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			fmt.Fprintf(os.Stderr, "noleftovers: %v\n", err)
			return 1
		}
		code = max(exit.ExitCode(), 1)
	}
	if !watching {
		return code
	}
	left := waitForOrphans(grace)
	if len(left) == 0 {
		return code
	}
	fmt.Fprintf(os.Stderr, "noleftovers: %d processes started by %q outlived it; killing them:\n", len(left), args[0])
	for pid, cmdline := range left {
		fmt.Fprintf(os.Stderr, "  %d %s\n", pid, cmdline)
		syscall.Kill(pid, syscall.SIGKILL)
	}
	reap()
	return max(code, 1)
}
