package harness

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// Table is a report's table, its columns aligned: a row per figure with
// Vigil's value, the anchor's, their ratio and a note, such as
// LowerIsBetter for a figure the last line carries.
type Table struct {
	out     io.Writer
	buf     bytes.Buffer
	tw      *tabwriter.Writer
	columns int
}

// NewTable starts a table that writes to out on Flush, with a head row of
// the given cells, if any: the label columns, the two values and their
// ratio.
func NewTable(out io.Writer, head ...string) *Table {
	t := &Table{out: out, columns: len(head)}
	t.tw = tabwriter.NewWriter(&t.buf, 0, 0, 2, ' ', 0)
	if len(head) > 0 {
		fmt.Fprintf(t.tw, "%s\t\n", strings.Join(head, "\t"))
	}
	return t
}

// Compare writes a row: label, a and b formatted by format, their ratio
// a/b and note; it returns the ratio. A value that is not a number is
// written n/a. label fills the columns before the values: it may hold
// several, separated by tabs.
func (t *Table) Compare(label string, a, b float64, format func(float64) string, note string) float64 {
	ratio := a / b
	t.Row(label, formatValue(a, format), formatValue(b, format), FormatRatio(ratio), note)
	return ratio
}

// Values writes a row as Compare does but without the ratio, for figures
// whose ratio says nothing.
func (t *Table) Values(label string, a, b float64, format func(float64) string, note string) {
	t.Row(label, formatValue(a, format), formatValue(b, format), "", note)
}

// Row writes a row of cells as they are.
func (t *Table) Row(cells ...string) {
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

// Gap writes an empty row, across which the columns stay aligned.
func (t *Table) Gap() {
	t.Row(make([]string, t.columns+1)...)
}

// Flush writes the table's lines to its output, without trailing blanks.
func (t *Table) Flush() {
	_ = t.tw.Flush()
	for line := range strings.Lines(t.buf.String()) {
		fmt.Fprintln(t.out, strings.TrimRight(line, " \n"))
	}
	t.buf.Reset()
}

// formatValue formats x, n/a when it is not a number.
func formatValue(x float64, format func(float64) string) string {
	if math.IsNaN(x) {
		return "n/a"
	}
	return format(x)
}
