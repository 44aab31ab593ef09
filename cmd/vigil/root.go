package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/prometheus/common/config"
	"github.com/spf13/cobra"
)

// newRootCommand builds the command tree. Cobra adds `help` and
// `completion` (bash, zsh, fish, powershell).
func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "vigil",
		Short: "Vigil: Prometheus's model and PromQL, with exporters, discovery and notifiers as plugins",
		Long: `Vigil scrapes targets, stores samples in its own time-series store,
answers PromQL through the Prometheus HTTP API, evaluates rules and routes
alerts. Exporters, service discovery and notifiers are plugins.`,
		// --version prints what `vigil version` prints.
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("unknown command %q", args[0])}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usageError{err}
	})
	root.AddCommand(newServerCommand(), newAgentCommand(), newQueryCommand(), newVersionCommand(), newTSDBCommand(), newFmtCommand(), newConfigCommand(), newDashboardCommand(), newNotifyCommand(), newSilenceCommand(), newAlertsCommand())
	root.AddCommand(newPluginCommand())
	root.AddCommand(newRegistryCommand())
	root.AddCommand(newConformanceCommand())
	root.AddCommand(newHashPasswordCommand())
	return root
}

// defaultServer is the server the client commands talk to when neither
// --server nor serverEnv names one.
const defaultServer = "http://127.0.0.1:9090"

// serverEnv names the environment variable whose URL the client commands
// talk to when --server is not given.
const serverEnv = "VIGIL_SERVER"

// addServerFlag adds --server to a client command, into *server. When the
// flag is not given, the URL in serverEnv, when set, is the value;
// otherwise defaultServer. It adds --http.config.file too: an HTTP client
// configuration, as promtool and amtool take, for a server that asks for
// credentials or a client certificate; the client it makes is in the
// command's context, for httpClientOf.
func addServerFlag(cmd *cobra.Command, server *string) {
	cmd.Flags().StringVar(server, "server", defaultServer, "the server's URL; without it, $"+serverEnv+" when set")
	var httpConfig string
	cmd.Flags().StringVar(&httpConfig, "http.config.file", "", "an HTTP client configuration file (Prometheus's http_config: basic_auth, authorization, tls_config...)")
	next := cmd.PreRunE
	cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
		if env := os.Getenv(serverEnv); env != "" && !cmd.Flags().Changed("server") {
			*server = env
		}
		if httpConfig != "" {
			client, err := loadHTTPClient(httpConfig)
			if err != nil {
				return err
			}
			cmd.SetContext(context.WithValue(cmd.Context(), httpClientKey{}, client))
		}
		if next != nil {
			return next(cmd, args)
		}
		return nil
	}
}

type httpClientKey struct{}

// httpClientOf is the HTTP client of --http.config.file in ctx, or a
// plain one. Neither has a timeout: the commands bound their requests
// with ctx.
func httpClientOf(ctx context.Context) *http.Client {
	if c, ok := ctx.Value(httpClientKey{}).(*http.Client); ok {
		return c
	}
	return &http.Client{}
}

// loadHTTPClient makes the HTTP client of the configuration file at
// path, with prometheus/common's HTTPClientConfig as promtool does.
func loadHTTPClient(path string) (*http.Client, error) {
	cfg, _, err := config.LoadHTTPConfigFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot load --http.config.file %q: %w", path, err)
	}
	client, err := config.NewClientFromConfig(*cfg, "vigil")
	if err != nil {
		return nil, fmt.Errorf("--http.config.file %q: %w", path, err)
	}
	return client, nil
}

// newGroupCommand is a command that only holds subcommands and prints its
// help when called alone.
func newGroupCommand(use, short string, children ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(children...)
	return cmd
}

// maxArgs is cobra.MaximumNArgs with a usage error.
func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.MaximumNArgs(n)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// exactArgs is cobra.ExactArgs with a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}
