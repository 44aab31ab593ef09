package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"
)

type queryFlags struct {
	server           string
	start, end, step string
	json             bool
	timeout          time.Duration
}

func newQueryCommand() *cobra.Command {
	var f queryFlags
	cmd := &cobra.Command{
		Use:   "query [flags] EXPR",
		Short: "Run a PromQL query against a server",
		Long: `Run EXPR as an instant query at now, or as a range query with --start,
--end and --step. Times are RFC 3339 or Unix seconds; a time of the form
-1h is relative to now. The result prints as a table, or as the API's JSON
with --json. Any Prometheus-compatible server answers it.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runQuery(cmd.Context(), cmd.OutOrStdout(), f, args[0])
		},
	}
	addServerFlag(cmd, &f.server)
	cmd.Flags().StringVar(&f.start, "start", "", "start of a range query")
	cmd.Flags().StringVar(&f.end, "end", "", "end of a range query (default now)")
	cmd.Flags().StringVar(&f.step, "step", "", "resolution of a range query, such as 15s (default: 250 points)")
	cmd.Flags().BoolVar(&f.json, "json", false, "print the result as JSON")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 2*time.Minute, "how long to wait for the answer")
	return cmd
}

func runQuery(ctx context.Context, out io.Writer, f queryFlags, expr string) error {
	client, err := api.NewClient(api.Config{Address: f.server, Client: httpClientOf(ctx)})
	if err != nil {
		return usageError{fmt.Errorf("invalid server URL %q (--server or $%s): %w", f.server, serverEnv, err)}
	}
	prom := v1.NewAPI(client)
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	now := time.Now()

	var (
		result   model.Value
		warnings v1.Warnings
	)
	if f.start == "" && f.end == "" && f.step == "" {
		result, warnings, _, err = prom.Query(ctx, expr, now)
	} else {
		r, perr := queryRange(f, now)
		if perr != nil {
			return usageError{perr}
		}
		result, warnings, _, err = prom.QueryRange(ctx, expr, r)
	}
	if err != nil {
		return fmt.Errorf("query %q on %s: %w", expr, f.server, err)
	}
	for _, w := range warnings {
		fmt.Fprintf(out, "warning: %s\n", w)
	}
	if f.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(result)
	}
	printValue(out, result)
	return nil
}

// queryRange builds the range of a range query from the flags.
func queryRange(f queryFlags, now time.Time) (v1.Range, error) {
	if f.start == "" {
		return v1.Range{}, fmt.Errorf("a range query needs --start")
	}
	start, err := parseQueryTime(f.start, now)
	if err != nil {
		return v1.Range{}, fmt.Errorf("invalid --start: %w", err)
	}
	end := now
	if f.end != "" {
		if end, err = parseQueryTime(f.end, now); err != nil {
			return v1.Range{}, fmt.Errorf("invalid --end: %w", err)
		}
	}
	if !end.After(start) {
		return v1.Range{}, fmt.Errorf("--end %s is not after --start %s", end.Format(time.RFC3339), start.Format(time.RFC3339))
	}
	step := end.Sub(start) / 250
	if f.step != "" {
		d, err := model.ParseDuration(f.step)
		if err != nil || d <= 0 {
			return v1.Range{}, fmt.Errorf("invalid --step %q: want a duration such as 15s", f.step)
		}
		step = time.Duration(d)
	}
	return v1.Range{Start: start, End: end, Step: max(step, time.Millisecond)}, nil
}

// parseQueryTime accepts RFC 3339, Unix seconds, and -DURATION for a time
// before now.
func parseQueryTime(s string, now time.Time) (time.Time, error) {
	if rel, ok := strings.CutPrefix(s, "-"); ok {
		if d, err := model.ParseDuration(rel); err == nil {
			return now.Add(-time.Duration(d)), nil
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	var sec float64
	if _, err := fmt.Sscanf(s, "%g", &sec); err == nil {
		return time.UnixMilli(int64(sec * 1000)), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339, Unix seconds nor -DURATION", s)
}

// printValue prints a query result as a table.
func printValue(out io.Writer, v model.Value) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	defer w.Flush()
	switch v := v.(type) {
	case model.Vector:
		sort.Slice(v, func(i, j int) bool { return v[i].Metric.Before(v[j].Metric) })
		fmt.Fprintln(w, "SERIES\tVALUE\tTIMESTAMP")
		for _, s := range v {
			value := s.Value.String()
			if s.Histogram != nil {
				value = s.Histogram.String()
			}
			fmt.Fprintf(w, "%s\t%s\t%s\n", s.Metric, value, s.Timestamp.Time().UTC().Format(time.RFC3339Nano))
		}
	case model.Matrix:
		sort.Slice(v, func(i, j int) bool { return v[i].Metric.Before(v[j].Metric) })
		fmt.Fprintln(w, "SERIES\tVALUE\tTIMESTAMP")
		for _, s := range v {
			for _, p := range s.Values {
				fmt.Fprintf(w, "%s\t%s\t%s\n", s.Metric, p.Value, p.Timestamp.Time().UTC().Format(time.RFC3339Nano))
			}
			for _, p := range s.Histograms {
				fmt.Fprintf(w, "%s\t%s\t%s\n", s.Metric, p.Histogram, p.Timestamp.Time().UTC().Format(time.RFC3339Nano))
			}
		}
	case *model.Scalar:
		fmt.Fprintf(w, "%s\n", v.Value)
	case *model.String:
		fmt.Fprintf(w, "%s\n", v.Value)
	default:
		fmt.Fprintf(w, "%v\n", v)
	}
}
