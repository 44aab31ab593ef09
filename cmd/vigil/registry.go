package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"

	"github.com/vigilmon/vigil/registry"
)

func newRegistryCommand() *cobra.Command {
	return newGroupCommand("registry", "Serve a plugin registry", newRegistryServeCommand())
}

func newRegistryServeCommand() *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:   "serve [--listen ADDR] DIR",
		Short: "Serve a registry folder filled by vigil plugin publish",
		Long: `Serve the registry folder DIR over HTTP, for air-gapped sites and tests:
the discovery document, the plugin index, the archives and the signed
SHA256SUMS, as registry/FORMAT.md describes. It runs until interrupted.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if fi, err := os.Stat(args[0]); err != nil || !fi.IsDir() {
				return fmt.Errorf("registry folder %q is not a folder: %v", args[0], err)
			}
			logger := hclog.New(&hclog.LoggerOptions{Name: "vigil-registry", Output: cmd.ErrOrStderr(), Level: hclog.Info})
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("cannot listen on %q: %w", listen, err)
			}
			srv := &http.Server{Handler: registry.Handler(args[0]), ReadHeaderTimeout: 10 * time.Second}
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ln) }()
			logger.Info("listening", "address", ln.Addr().String(), "dir", args[0])
			select {
			case <-cmd.Context().Done():
				logger.Info("shutting down")
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				return srv.Shutdown(ctx)
			case err := <-done:
				if errors.Is(err, http.ErrServerClosed) {
					return nil
				}
				return fmt.Errorf("the registry server stopped: %w", err)
			}
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "the address to listen on")
	return cmd
}
