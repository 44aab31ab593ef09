package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilmon/vigil/core/pluginhost"
	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/sdk"
)

func newNotifyCommand() *cobra.Command {
	return newGroupCommand("notify", "Work with notifiers", newNotifyTestCommand())
}

func newNotifyTestCommand() *cobra.Command {
	var (
		configFile string
		timeout    time.Duration
	)
	cmd := &cobra.Command{
		Use:   "test --config FILE NOTIFIER",
		Short: "Send a test notification through a notifier block",
		Long: `Start the plugin of the notifier block NOTIFIER of the configuration, and
have it deliver one firing test alert (alertname="VigilTestNotification")
in Alertmanager's webhook message, version 4. Exit 0 when it was
delivered, 1 when it was not, saying whether the plugin deems the error
worth retrying.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if configFile == "" {
				return usageError{fmt.Errorf("notify test needs --config")}
			}
			cfg, err := hclconfig.LoadChecked(configFile, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			host := pluginhost.New(pluginhost.Options{})
			defer host.Close()
			cfg, diags := host.Resolve(ctx, cfg)
			if err := hclconfig.CheckDiagnostics("the plugin configuration", diags, cmd.ErrOrStderr()); err != nil {
				return err
			}
			if err := host.ApplyConfig(ctx, cfg); err != nil {
				return err
			}
			n, ok := host.Notifier(args[0])
			if !ok {
				return fmt.Errorf("configuration %q has no notifier block %q (it has %v)", configFile, args[0], host.Names(sdk.KindNotifier))
			}
			if err := n.Notify(ctx, testNotification(args[0])); err != nil {
				kind := "retryable"
				if sdk.IsPermanent(err) {
					kind = "permanent"
				}
				return fmt.Errorf("notifier %q failed (%s): %w", args[0], kind, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "notifier %q delivered the test notification\n", args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&configFile, "config", "", "the HCL configuration file that declares the notifier")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long to wait for the plugin to start and deliver")
	return cmd
}

// testNotification is one firing test alert for the receiver, in the
// shape the dispatcher sends.
func testNotification(receiver string) *sdk.Notification {
	labels := map[string]string{"alertname": "VigilTestNotification", "severity": "info"}
	annotations := map[string]string{"summary": "A test notification sent by vigil notify test."}
	return &sdk.Notification{
		Version:           "4",
		GroupKey:          fmt.Sprintf("{}:{alertname=%q}", labels["alertname"]),
		Status:            "firing",
		Receiver:          receiver,
		GroupLabels:       map[string]string{"alertname": labels["alertname"]},
		CommonLabels:      labels,
		CommonAnnotations: annotations,
		Alerts: []sdk.Alert{{
			Status: "firing", Labels: labels, Annotations: annotations, StartsAt: time.Now().UTC(),
			Fingerprint: fmt.Sprintf("%x", sha256.Sum256([]byte("VigilTestNotification")))[:16],
		}},
	}
}
