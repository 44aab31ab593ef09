package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/vigilmon/vigil/hclconfig/grafanaimport"
)

func newDashboardCommand() *cobra.Command {
	return newGroupCommand("dashboard", "Work with dashboards", newDashboardImportCommand())
}

func newDashboardImportCommand() *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "import [--name NAME] GRAFANA_JSON",
		Short: "Convert a Grafana dashboard into a dashboard block",
		Long: `Convert GRAFANA_JSON, a Grafana dashboard whose panels query a Prometheus
data source, into a dashboard block of Vigil's configuration, written to
standard output: its panels (time series, stat, gauge, bar gauge, table,
heatmap) with their queries, legends, units, decimals, min and max,
stacking, thresholds and place on the grid, its rows, its variables
(query, custom, interval, constant, text box), its time range and refresh.
The block is named --name, or after the dashboard's title.

What Vigil's dashboards cannot show (other panel types, other data
sources, overrides of series' settings, value mappings, links, repeats,
...) is left out and reported on standard error, a line each naming the
panel or variable, then how many panels were carried over:

  GRAFANA_JSON: panel "TITLE": WHAT is not carried over

Exit status: 0 when the dashboard was converted, whatever was left out; 1
when the file is not a Grafana dashboard.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := args[0]
			src, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("cannot read %q: %w", file, err)
			}
			res, err := grafanaimport.Convert(src, grafanaimport.Options{Name: name})
			if err != nil {
				return fmt.Errorf("cannot import %q: %w", file, err)
			}
			if _, err := cmd.OutOrStdout().Write(res.HCL); err != nil {
				return fmt.Errorf("cannot write the dashboard block: %w", err)
			}
			if err := res.WriteReport(cmd.ErrOrStderr(), file); err != nil {
				return fmt.Errorf("cannot write the report: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the dashboard block's name (default: made of the dashboard's title)")
	return cmd
}
