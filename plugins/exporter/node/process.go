//go:build linux

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// node_exporter's collector package keeps its config in process-wide
// flags, reads some of them on each collection, and keeps the collectors
// it made for the life of the process. So each config runs its
// collectors in a process of its own, the plugin's program started again
// (serveCollectors), and a new config starts a new one. The plugin asks
// it for the metrics over a Unix socket in a folder only its user may
// enter, as Prometheus would ask node_exporter over HTTP.

// startTimeout bounds how long the collectors' process may take to start
// and make its collectors.
const startTimeout = time.Minute

// stopTimeout bounds how long a process that was told to stop may take
// before it is killed.
const stopTimeout = 5 * time.Second

// collectorsProcess is a running process of node_exporter's collectors.
type collectorsProcess struct {
	args   []string
	cmd    *exec.Cmd
	stdin  io.Closer
	dir    string // holds the socket
	client *http.Client
	ended  chan struct{} // closed once the process has ended
	err    error         // why it ended, once ended is closed
}

// startCollectors starts the collectors' process with node_exporter's
// flags args; it writes its log to logOutput. It returns once the
// process has made its collectors, or with the error that stopped it.
func startCollectors(args []string, logOutput io.Writer) (*collectorsProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("cannot find the plugin's program: %w", err)
	}
	dir, err := os.MkdirTemp("", "vigil-node-")
	if err != nil {
		return nil, fmt.Errorf("cannot make a folder for the collectors' socket: %w", err)
	}
	p := &collectorsProcess{args: args, dir: dir, ended: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(dir)
		}
	}()
	socket := filepath.Join(dir, "collectors.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: socket, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w", socket, err)
	}
	l.SetUnlinkOnClose(false)
	lf, err := l.File()
	l.Close()
	if err != nil {
		return nil, fmt.Errorf("cannot pass the socket on: %w", err)
	}
	defer lf.Close()

	p.cmd = exec.Command(exe, append([]string{childArg}, args...)...)
	p.cmd.ExtraFiles = []*os.File{lf} // file descriptor 3: listenerFD
	p.cmd.Stderr = logOutput
	stdin, err := p.cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start the collectors' process: %w", err)
	}
	p.stdin = stdin
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		switch {
		case !sc.Scan():
			ready <- errNotReady
		case sc.Text() == readyLine:
			ready <- nil
		default:
			ready <- errors.New(strings.TrimPrefix(sc.Text(), errorPrefix))
		}
		io.Copy(io.Discard, stdout)
		p.err = p.cmd.Wait()
		os.RemoveAll(dir)
		close(p.ended)
	}()
	select {
	case err = <-ready:
	case <-time.After(startTimeout):
		err = fmt.Errorf("the collectors were not ready after %s", startTimeout)
	}
	if err != nil {
		p.stop()
		return nil, err
	}
	p.client = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		DisableCompression: true,
	}}
	ok = true
	return p, nil
}

// gather asks the process for the collectors' metrics.
func (p *collectorsProcess) gather(ctx context.Context) ([]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://collectors/metrics", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeProtoDelim)))
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the collectors: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return nil, fmt.Errorf("the collectors answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	dec := expfmt.NewDecoder(resp.Body, expfmt.ResponseFormat(resp.Header))
	var families []*dto.MetricFamily
	for {
		f := &dto.MetricFamily{}
		if err := dec.Decode(f); errors.Is(err, io.EOF) {
			return families, nil
		} else if err != nil {
			return nil, fmt.Errorf("cannot read the collectors' metrics: %w", err)
		}
		families = append(families, f)
	}
}

// hasEnded says whether the process has ended, and why.
func (p *collectorsProcess) hasEnded() (bool, error) {
	select {
	case <-p.ended:
		return true, p.err
	default:
		return false, nil
	}
}

// stop ends the process: closing its stdin tells it to; one that does not
// within stopTimeout is killed. It returns once the process has ended.
func (p *collectorsProcess) stop() {
	if p.client != nil {
		p.client.CloseIdleConnections()
	}
	p.stdin.Close()
	select {
	case <-p.ended:
		return
	case <-time.After(stopTimeout):
	}
	p.cmd.Process.Kill()
	<-p.ended
}
