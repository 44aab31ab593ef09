package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// childEnv is the environment variable that starts a benchmark program as
// a child process of its own; it holds the child's mode.
const childEnv = "VIGIL_BENCH_CHILD"

// ChildMode returns the mode this program was started in as a child of
// itself (by RunChild, or with ChildEnv), "" when it is not a child.
func ChildMode() string { return os.Getenv(childEnv) }

// ChildEnv returns the environment entry that starts this program as a
// child in mode, for a child that RunChild does not start: a plugin, or a
// producer that serves until its stdin closes.
func ChildEnv(mode string) string { return childEnv + "=" + mode }

// Child is one run of this program as a child process, so that what is
// measured in it belongs to it alone.
type Child struct {
	// Mode is what ChildMode returns in the child.
	Mode string
	// Args are the child's command-line arguments.
	Args []string
	// Spec, unless nil, is written to the child's stdin as JSON, for
	// ReadSpec.
	Spec any
	// Timeout, unless zero, kills a child that has not ended by then.
	Timeout time.Duration
	// Crash says that the child ends by KillSelf after WriteResult, as a
	// crash test wants; any other end is then an error.
	Crash bool
}

// ChildRun is how a child process ran.
type ChildRun struct {
	// Wall is the time from its start to its end.
	Wall time.Duration
	// Usage is the whole process's, as the kernel accounted it at exit.
	Usage Usage
}

// RunChild runs this program as the child c, its stderr going to this
// program's, and decodes the result it wrote to stdout (WriteResult) into
// result. A child that fails, or writes anything else to stdout, is an
// error.
func RunChild(ctx context.Context, c Child, result any) (ChildRun, error) {
	exe, err := os.Executable()
	if err != nil {
		return ChildRun{}, fmt.Errorf("find this executable: %w", err)
	}
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, exe, c.Args...)
	cmd.Env = append(os.Environ(), ChildEnv(c.Mode))
	if c.Spec != nil {
		in, err := json.Marshal(c.Spec)
		if err != nil {
			return ChildRun{}, fmt.Errorf("encode the spec of the %s child: %w", c.Mode, err)
		}
		cmd.Stdin = bytes.NewReader(in)
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	began := time.Now()
	runErr := cmd.Run()
	run := ChildRun{Wall: time.Since(began)}
	if cmd.ProcessState != nil {
		run.Usage = UsageOf(cmd.ProcessState)
	}
	if err := childEnded(c, runErr); err != nil {
		return run, fmt.Errorf("%s child: %w (output %q)", c.Mode, err, out.String())
	}
	dec := json.NewDecoder(&out)
	if err := dec.Decode(result); err != nil {
		return run, fmt.Errorf("%s child: decode its result %q: %w", c.Mode, out.String(), err)
	}
	if err := dec.Decode(new(json.RawMessage)); !errors.Is(err, io.EOF) {
		return run, fmt.Errorf("%s child wrote more than its result to stdout: %q", c.Mode, out.String())
	}
	return run, nil
}

// childEnded checks that the child c ended as it should have, runErr
// being what running it returned.
func childEnded(c Child, runErr error) error {
	if !c.Crash {
		return runErr
	}
	var exitErr *exec.ExitError
	if !errors.As(runErr, &exitErr) {
		return fmt.Errorf("did not die by a signal: %v", runErr)
	}
	if ws, ok := exitErr.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		return fmt.Errorf("did not die by SIGKILL: %w", runErr)
	}
	return nil
}

// ReadSpec decodes the spec RunChild gave this child, from stdin, into v.
func ReadSpec(v any) error {
	if err := json.NewDecoder(os.Stdin).Decode(v); err != nil {
		return fmt.Errorf("decode the child's spec: %w", err)
	}
	return nil
}

// WriteResult writes v to stdout as this child's result, for RunChild.
func WriteResult(v any) error {
	if err := json.NewEncoder(os.Stdout).Encode(v); err != nil {
		return fmt.Errorf("write the child's result: %w", err)
	}
	return nil
}

// KillSelf ends this process with SIGKILL, as a crash would: nothing is
// closed or flushed. It returns only if the signal could not be sent.
func KillSelf() error {
	if err := syscall.Kill(os.Getpid(), syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill this process: %w", err)
	}
	select {} // SIGKILL cannot be caught; wait for it to land.
}
