package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"

	"github.com/vigilmon/vigil/core/server"
)

func newServerCommand() *cobra.Command {
	var (
		opts     server.Options
		logLevel string
	)
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the Vigil server",
		Long: `Run the server: scrape the configured targets into the store under the data
directory and answer the Prometheus HTTP API. Without --config it scrapes
itself. SIGHUP reloads the configuration, and so does POST /-/reload with
server { enable_lifecycle = true } (a bad one is refused and the running
one stays); SIGTERM shuts down cleanly. The server
block's tls and auth blocks make it answer HTTPS only and ask every
request for credentials; vigil hash-password hashes a user's password.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			level, err := parseLogLevel(logLevel)
			if err != nil {
				return usageError{err}
			}
			return runServer(cmd.Context(), opts, level, cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&opts.ConfigFile, "config", "", "the HCL configuration file (default: scrape itself)")
	cmd.Flags().StringVar(&opts.Listen, "listen", "", "the address to listen on, overriding the configuration (default 127.0.0.1:9090)")
	cmd.Flags().StringVar(&opts.DataDir, "data", "", "the data directory, overriding the configuration (default ./data)")
	cmd.Flags().StringVar(&logLevel, "log.level", "info", "the least severe log lines written: debug, info, warn or error")
	return cmd
}

// parseLogLevel reads the value of --log.level.
func parseLogLevel(s string) (hclog.Level, error) {
	switch s {
	case "debug":
		return hclog.Debug, nil
	case "info":
		return hclog.Info, nil
	case "warn":
		return hclog.Warn, nil
	case "error":
		return hclog.Error, nil
	}
	return hclog.NoLevel, fmt.Errorf("invalid --log.level %q: want debug, info, warn or error", s)
}

// runServer runs the server, logging to stderr the lines of level and
// above, until ctx ends, reloading its configuration on SIGHUP.
func runServer(ctx context.Context, opts server.Options, level hclog.Level, stderr io.Writer) error {
	opts.Logger = hclog.New(&hclog.LoggerOptions{Name: "vigil", Output: stderr, Level: level})
	opts.Diagnostics, opts.Version, opts.Revision = stderr, buildVersion(), buildRevision()
	srv, err := server.New(ctx, opts)
	if err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			srv.Reload() // a refused reload is logged
		}
	}()
	err = srv.Run(ctx)
	opts.Logger.Info("stopped")
	return err
}
