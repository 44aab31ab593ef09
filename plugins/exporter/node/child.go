//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/alecthomas/kingpin/v2"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	commonversion "github.com/prometheus/common/version"
	"github.com/prometheus/node_exporter/collector"

	"github.com/vigilmon/vigil/internal/hclogslog"
)

// childArg, as the first argument, makes the plugin's program run the
// collectors (serveCollectors) instead of serving the plugin.
const childArg = "serve-node-collectors"

// The child's protocol: it inherits a listening Unix socket as file
// descriptor 3 and serves node_exporter's handler on it; it writes
// readyLine, or errorPrefix and why it cannot run, as the first line of
// its stdout; it ends when its stdin closes, as it does when the plugin
// ends, however it ends.
const (
	listenerFD  = 3
	readyLine   = "ready"
	errorPrefix = "error: "
)

// disableExporterMetrics is node_exporter's flag that leaves out the
// exporter's own process and Go metrics; the plugin's exporter_metrics
// attribute sets it.
var disableExporterMetrics = kingpin.Flag("web.disable-exporter-metrics",
	"Exclude metrics about the exporter itself (process_*, go_*).").Bool()

// nodeExporterModule is the module whose collectors the plugin runs.
const nodeExporterModule = "github.com/prometheus/node_exporter"

// serveCollectors is the child process: it gives args to node_exporter's
// collector package as node_exporter's command line would, and serves its
// collectors' metrics as node_exporter does, node_exporter_build_info
// included, until its stdin closes. It returns the process's exit code.
func serveCollectors(args []string, stdin io.Reader, stdout io.Writer, logger hclog.Logger) int {
	handler, err := newCollectorsHandler(args, logger)
	if err != nil {
		fmt.Fprintln(stdout, errorPrefix+strings.ReplaceAll(err.Error(), "\n", " "))
		return 1
	}
	l, err := net.FileListener(os.NewFile(listenerFD, "listener"))
	if err != nil {
		fmt.Fprintln(stdout, errorPrefix+"no listener: "+err.Error())
		return 1
	}
	go func() {
		// The plugin holds the other end of stdin: it closes when the
		// plugin stops this process or ends itself.
		io.Copy(io.Discard, stdin)
		os.Exit(0)
	}()
	fmt.Fprintln(stdout, readyLine)
	err = http.Serve(l, handler)
	logger.Error("serving the collectors failed", "error", err)
	return 1
}

// newCollectorsHandler parses node_exporter's flags and returns its
// metrics handler, as node_exporter builds it: a collector that panics
// while being made is an error here.
func newCollectorsHandler(args []string, logger hclog.Logger) (h http.Handler, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("node_exporter's collectors panicked: %v", r)
		}
	}()
	if _, err := kingpin.CommandLine.Parse(args); err != nil {
		return nil, fmt.Errorf("node_exporter's flags %q: %w", args, err)
	}
	// node_exporter's default: its collectors are mostly waiting on the
	// kernel, and one thread keeps them out of the host's way.
	runtime.GOMAXPROCS(1)
	slogger := hclogslog.New(logger)
	nc, err := collector.NewNodeCollector(slogger)
	if err != nil {
		return nil, fmt.Errorf("cannot make node_exporter's collectors: %w", err)
	}
	if v := moduleVersion(nodeExporterModule); v != "" {
		commonversion.Version = strings.TrimPrefix(v, "v")
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(versioncollector.NewCollector("node_exporter")); err != nil {
		return nil, fmt.Errorf("cannot register node_exporter_build_info: %w", err)
	}
	if err := reg.Register(nc); err != nil {
		return nil, fmt.Errorf("cannot register node_exporter's collectors: %w", err)
	}
	if !*disableExporterMetrics {
		// As node_exporter, the metrics of the process that collects.
		if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
			return nil, fmt.Errorf("cannot register the process metrics: %w", err)
		}
		if err := reg.Register(collectors.NewGoCollector()); err != nil {
			return nil, fmt.Errorf("cannot register the Go metrics: %w", err)
		}
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(slogger.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
	}), nil
}

// moduleVersion returns the version of module the program was built
// with, or "".
func moduleVersion(module string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, dep := range info.Deps {
		if dep.Path == module {
			return dep.Version
		}
	}
	return ""
}

// errNotReady is the error of a child that ended before it was ready
// without saying why.
var errNotReady = errors.New("the collectors' process ended before it was ready")
