package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ReadyTimeout bounds a server's start, until WaitReady finds it ready.
const ReadyTimeout = time.Minute

// Process is a server under test, another program than this one (Vigil's
// binary, or its anchor's), started in a process group of its own so that
// it and its children (Vigil's plugins) can be killed together.
type Process struct {
	name   string
	cmd    *exec.Cmd
	logs   *TailWriter
	exited chan struct{} // closed when the process has exited
	err    error         // of its Wait, once exited is closed
}

// StartProcess starts argv[0] with the rest of argv as arguments,
// its stdout and stderr kept for the error messages.
func StartProcess(name string, argv []string) (*Process, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	logs := &TailWriter{Max: 16 << 10}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	p := &Process{name: name, cmd: cmd, logs: logs, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// Pid is the server's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited is closed when the server has exited; Err then says how.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Err is the error of the server's exit, once Exited is closed: nil when
// it exited with status 0.
func (p *Process) Err() error {
	<-p.exited
	return p.err
}

// Logs returns the end of the server's output, stdout and stderr.
func (p *Process) Logs() string { return p.logs.String() }

// Kill ends the server: SIGTERM, then SIGKILL to its whole process group
// after 10s, or at once to the group's survivors (a plugin the server did
// not take down) once the server has exited.
func (p *Process) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		Logf("%s did not exit within 10s of SIGTERM; killing it", p.name)
	}
	// The group's id is the server's pid; the server ran in it alone with
	// its children.
	_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
	<-p.exited
}

// Failed returns err with the end of the server's output.
func (p *Process) Failed(err error) error {
	return fmt.Errorf("%w\n--- end of the %s output ---\n%s", err, p.name, p.logs.String())
}

// WaitReady polls url until it answers 200 and ok accepts its body, the
// process exits, ctx ends or ReadyTimeout passes.
func (p *Process) WaitReady(ctx context.Context, url string, ok func(body string) bool) error {
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(ReadyTimeout)
	var last string
	for {
		body, err := Get(ctx, client, url)
		switch {
		case err == nil && ok(body):
			return nil
		case err != nil:
			last = err.Error()
		default:
			last = "not ready yet"
		}
		select {
		case <-p.exited:
			return p.Failed(fmt.Errorf("%s exited before it was ready: %v", p.name, p.err))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return p.Failed(fmt.Errorf("%s not ready within %s: GET %s: %s", p.name, ReadyTimeout, url, last))
		}
	}
}

// Get returns the body of a GET of url, an error unless it answers 200.
func Get(ctx context.Context, client *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("make the request: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return "", fmt.Errorf("read the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("answered %s", resp.Status)
	}
	return string(b), nil
}

// TreeUsage is the CPU time and peak RSS of a server and of its
// descendants (Vigil's plugin processes).
type TreeUsage struct {
	// ServerCPU and ChildrenCPU are CPU seconds (utime+stime), of the
	// children summed.
	ServerCPU, ChildrenCPU float64
	// ServerRSS and ChildrenRSS are peak resident sets (VmHWM) in bytes,
	// of the children summed.
	ServerRSS, ChildrenRSS int64
	// Children is the number of descendants.
	Children int
}

// Usage reads the CPU time and peak RSS of the server and its descendants
// from /proc.
func (p *Process) Usage() (TreeUsage, error) {
	var u TreeUsage
	var err error
	if u.ServerCPU, err = ProcCPU(p.Pid()); err != nil {
		return u, err
	}
	if u.ServerRSS, err = ProcPeakRSS(p.Pid()); err != nil {
		return u, err
	}
	children, err := ProcDescendants(p.Pid())
	if err != nil {
		return u, err
	}
	for _, c := range children {
		cpu, err1 := ProcCPU(c)
		rss, err2 := ProcPeakRSS(c)
		if errors.Join(err1, err2) != nil {
			continue // it ended meanwhile
		}
		u.ChildrenCPU += cpu
		u.ChildrenRSS += rss
		u.Children++
	}
	return u, nil
}

// FreeAddr returns a free host:port of 127.0.0.1, for a server that must
// be told its address. Another process could take the port before the
// server does; on a benchmark machine that is unlikely.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	return addr, nil
}

// TailWriter keeps the last Max bytes written to it, at a line start
// when it can.
type TailWriter struct {
	// Max is how many bytes it keeps.
	Max int
	mu  sync.Mutex
	buf []byte
}

// Write keeps b, dropping the oldest bytes beyond max.
func (t *TailWriter) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.Max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

// String returns what is kept, from its first whole line.
func (t *TailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := string(t.buf)
	if len(t.buf) >= t.Max {
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	return s
}

// Complaints returns up to max warning and error lines of a server's
// output, in hclog's format (Vigil) or in logfmt (Alertmanager's go-kit,
// Prometheus's slog).
func Complaints(logs string, max int) []string {
	var out []string
	for line := range strings.SplitSeq(logs, "\n") {
		if len(out) == max {
			break
		}
		lower := strings.ToLower(line)
		for _, marker := range []string{"[warn]", "[error]", "level=warn", "level=error"} {
			if strings.Contains(lower, marker) {
				out = append(out, line)
				break
			}
		}
	}
	return out
}

// PromDuration formats d as Prometheus's and Alertmanager's configuration
// durations are written: whole milliseconds, seconds, minutes or hours.
func PromDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	default:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	}
}

// RunOutput runs a short command, such as a server's version, and
// returns its stdout.
func RunOutput(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return string(out), nil
}
