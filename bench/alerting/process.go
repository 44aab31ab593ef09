package main

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

	"github.com/vigilmon/vigil/bench/harness"
)

// readyTimeout bounds a server's start, until it is ready for alerts.
const readyTimeout = time.Minute

// serverProcess is a server under test, started in a process group of its
// own so that it and its children (Vigil's plugins) can be killed
// together.
type serverProcess struct {
	name   string
	cmd    *exec.Cmd
	logs   *tailWriter
	exited chan struct{} // closed when the process has exited
	err    error         // of its Wait, once exited is closed
}

// startServerProcess starts argv[0] with the rest of argv as arguments,
// its stdout and stderr kept for the error messages.
func startServerProcess(name string, argv []string) (*serverProcess, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	logs := &tailWriter{max: 16 << 10}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	p := &serverProcess{name: name, cmd: cmd, logs: logs, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// pid is the server's process id.
func (p *serverProcess) pid() int { return p.cmd.Process.Pid }

// kill ends the server: SIGTERM, then SIGKILL to its whole process group
// after 10s, or at once to the group's survivors (a plugin the server did
// not take down) once the server has exited.
func (p *serverProcess) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		harness.Logf("%s did not exit within 10s of SIGTERM; killing it", p.name)
	}
	// The group's id is the server's pid; the server ran in it alone with
	// its children.
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
	<-p.exited
}

// failed returns err with the end of the server's output.
func (p *serverProcess) failed(err error) error {
	return fmt.Errorf("%w\n--- end of the %s output ---\n%s", err, p.name, p.logs.String())
}

// waitReady polls url until it answers 200 and ok accepts its body, the
// process exits, ctx ends or readyTimeout passes.
func (p *serverProcess) waitReady(ctx context.Context, url string, ok func(body string) bool) error {
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(readyTimeout)
	var last string
	for {
		body, err := get(ctx, client, url)
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
			return p.failed(fmt.Errorf("%s exited before it was ready: %v", p.name, p.err))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return p.failed(fmt.Errorf("%s not ready within %s: GET %s: %s", p.name, readyTimeout, url, last))
		}
	}
}

// get returns the body of a GET of url, an error unless it answers 200.
func get(ctx context.Context, client *http.Client, url string) (string, error) {
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

// treeUsage is the CPU time and peak RSS of a server and of its
// descendants (Vigil's plugin processes).
type treeUsage struct {
	serverCPU, childrenCPU float64 // seconds
	serverRSS, childrenRSS int64   // VmHWM, bytes; of the children, summed
	children               int
}

// usage reads the CPU time and peak RSS of the server and its descendants
// from /proc.
func (p *serverProcess) usage() (treeUsage, error) {
	var u treeUsage
	var err error
	if u.serverCPU, err = harness.ProcCPU(p.pid()); err != nil {
		return u, err
	}
	if u.serverRSS, err = harness.ProcPeakRSS(p.pid()); err != nil {
		return u, err
	}
	children, err := harness.ProcDescendants(p.pid())
	if err != nil {
		return u, err
	}
	for _, c := range children {
		cpu, err1 := harness.ProcCPU(c)
		rss, err2 := harness.ProcPeakRSS(c)
		if errors.Join(err1, err2) != nil {
			continue // it ended meanwhile
		}
		u.childrenCPU += cpu
		u.childrenRSS += rss
		u.children++
	}
	return u, nil
}

// freeAddr returns a free host:port of 127.0.0.1, for a server that must
// be told its address. Another process could take the port before the
// server does; on a benchmark machine that is unlikely.
func freeAddr() (string, error) {
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

// tailWriter keeps the last max bytes written to it, at a line start
// when it can.
type tailWriter struct {
	mu  sync.Mutex
	max int
	buf []byte
}

// Write keeps b, dropping the oldest bytes beyond max.
func (t *tailWriter) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

// String returns what is kept, from its first whole line.
func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := string(t.buf)
	if len(t.buf) >= t.max {
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	return s
}
