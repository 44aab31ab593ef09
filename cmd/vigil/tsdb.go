package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/prometheus/prometheus/tsdb/index"
	"github.com/spf13/cobra"

	"github.com/vigilmon/vigil/core/tsdb"
	"github.com/vigilmon/vigil/internal/atrest"
)

func newTSDBCommand() *cobra.Command {
	return newGroupCommand("tsdb", "Inspect a Vigil data directory", newTSDBAnalyzeCommand())
}

func newTSDBAnalyzeCommand() *cobra.Command {
	var (
		dataDir, keyFile string
		limit            int
	)
	cmd := &cobra.Command{
		Use:   "analyze --data DIR",
		Short: "Print series, label and cardinality statistics of a data directory",
		Long: `Print the number of series and the time range of a data directory, and the
metric names, label names and label pairs with the highest cardinality, as
promtool tsdb analyze does. The server must not be running on the directory.
An encrypted store needs its key: --encryption-key-file, the file of the
server block's encryption_key_file.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dataDir == "" {
				return usageError{errors.New("--data is required")}
			}
			if limit <= 0 {
				return usageError{fmt.Errorf("--limit must be positive, got %d", limit)}
			}
			var key []byte
			if keyFile != "" {
				var err error
				if key, err = atrest.ReadKey(keyFile); err != nil {
					return err
				}
			}
			return analyze(cmd.OutOrStdout(), dataDir, key, limit)
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "", "the data directory to analyze")
	cmd.Flags().IntVar(&limit, "limit", 20, "entries in each top list")
	cmd.Flags().StringVar(&keyFile, "encryption-key-file", "", "the key of an encrypted store (server { encryption_key_file })")
	return cmd
}

// analyze opens the store in dir, encrypted with key if set, and prints
// its statistics.
func analyze(out io.Writer, dir string, key []byte, limit int) error {
	if fi, err := os.Stat(dir); err != nil {
		return fmt.Errorf("cannot read data directory %q: %w", dir, err)
	} else if !fi.IsDir() {
		return fmt.Errorf("data directory %q is not a directory", dir)
	}
	db, err := tsdb.Open(dir, tsdb.Options{EncryptionKey: key})
	if err != nil {
		return fmt.Errorf("cannot open data directory %q: %w", dir, err)
	}
	defer db.Close()
	stats, err := db.Stats(limit)
	if err != nil {
		return fmt.Errorf("cannot read statistics of %q: %w", dir, err)
	}
	printStats(out, dir, stats)
	return nil
}

func printStats(out io.Writer, dir string, s *tsdb.Stats) {
	fmt.Fprintf(out, "Data directory: %s\n", dir)
	fmt.Fprintf(out, "Series: %d\n", s.NumSeries)
	if s.MinTime <= s.MaxTime {
		minT, maxT := time.UnixMilli(s.MinTime).UTC(), time.UnixMilli(s.MaxTime).UTC()
		fmt.Fprintf(out, "Time range: %s to %s (%s)\n", minT.Format(time.RFC3339), maxT.Format(time.RFC3339), maxT.Sub(minT))
	} else {
		fmt.Fprintln(out, "Time range: no samples")
	}
	fmt.Fprintf(out, "Write-ahead bytes of unsealed samples: %d\n", s.WALBytes)
	fmt.Fprintf(out, "Label pairs: %d\n", s.Postings.NumLabelPairs)
	printTop(out, "Metric names with the most series", s.Postings.CardinalityMetricsStats)
	printTop(out, "Label names with the most values", s.Postings.CardinalityLabelStats)
	printTop(out, "Label names using the most bytes of values", s.Postings.LabelValueStats)
	printTop(out, "Label pairs in the most series", s.Postings.LabelValuePairsStats)
}

func printTop(out io.Writer, title string, stats []index.Stat) {
	fmt.Fprintf(out, "\n%s:\n", title)
	if len(stats) == 0 {
		fmt.Fprintln(out, "  (none)")
		return
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, st := range stats {
		fmt.Fprintf(w, "%d\t  %s\n", st.Count, st.Name)
	}
	w.Flush()
}
