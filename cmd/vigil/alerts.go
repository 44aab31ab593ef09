package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/spf13/cobra"

	"github.com/vigilmon/vigil/core/alert"
	"github.com/vigilmon/vigil/core/api"
)

func newAlertsCommand() *cobra.Command {
	return newGroupCommand("alerts", "List the alerts of a server", newAlertsListCommand())
}

func newAlertsListCommand() *cobra.Command {
	var (
		server string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list [flags] [MATCHER...]",
		Short: "List the firing alerts",
		Long: `List the alerts that fire, active or suppressed by silences and inhibit
rules, as a table or, with --json, as the API's JSON. MATCHERs, in
Alertmanager's syntax, select the alerts whose labels satisfy them.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, arg := range args {
				if _, err := alert.ParseMatchers(arg); err != nil {
					return usageError{fmt.Errorf("invalid matcher %q: %w", arg, err)}
				}
			}
			path := "/api/v2/alerts"
			if len(args) > 0 {
				path += "?" + url.Values{"filter": args}.Encode()
			}
			alerts := []api.GettableAlert{}
			if err := amRequest(cmd.Context(), server, http.MethodGet, path, nil, &alerts); err != nil {
				return fmt.Errorf("cannot list the alerts: %w", err)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), alerts)
			}
			return printAlerts(cmd.OutOrStdout(), alerts)
		},
	}
	addServerFlag(cmd, &server)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the alerts as JSON")
	return cmd
}

// printAlerts prints alerts as a table: the labels column holds those
// other than alertname.
func printAlerts(out io.Writer, alerts []api.GettableAlert) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ALERTNAME\tSTATE\tSTARTS AT\tLABELS")
	for _, a := range alerts {
		lset := labels.FromMap(a.Labels)
		name := lset.Get(labels.AlertName)
		rest := labels.NewBuilder(lset).Del(labels.AlertName).Labels()
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", name, a.Status.State, a.StartsAt.UTC().Format(time.RFC3339), rest)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("cannot print the alerts: %w", err)
	}
	return nil
}
