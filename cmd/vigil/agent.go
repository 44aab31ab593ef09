package main

import (
	"github.com/spf13/cobra"

	"github.com/vigilmon/vigil/core/server"
)

func newAgentCommand() *cobra.Command {
	var (
		opts     server.Options
		logLevel string
	)
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run Vigil as an agent: scrape and remote-write, keeping only a write-ahead log",
		Long: `Run Vigil as an agent, as Prometheus's --agent: scrape the configured
targets, run plugins and discovery, and send the samples to the
remote_write blocks. The agent keeps only the write-ahead log under the
data directory, until the remote_write queues have sent it: it has no
store to query, no rules and no alerting, and refuses a configuration
with rules, rule_files, route, inhibit, notifier or alertmanager blocks.
It answers /api/v1/targets, /api/v1/status/*, /metrics, /-/healthy,
/-/ready and /-/reload; the query endpoints say they are not available.
SIGHUP reloads the configuration, and so does POST /-/reload with
server { enable_lifecycle = true }; SIGTERM shuts down cleanly.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			level, err := parseLogLevel(logLevel)
			if err != nil {
				return usageError{err}
			}
			opts.Agent = true
			return runServer(cmd.Context(), opts, level, cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&opts.ConfigFile, "config", "", "the HCL configuration file (default: scrape itself)")
	cmd.Flags().StringVar(&opts.Listen, "listen", "", "the address to listen on, overriding the configuration (default 127.0.0.1:9090)")
	cmd.Flags().StringVar(&opts.DataDir, "data", "", "the data directory of the write-ahead log, overriding the configuration (default ./data)")
	cmd.Flags().StringVar(&logLevel, "log.level", "info", "the least severe log lines written: debug, info, warn or error")
	return cmd
}
