package hclconfig

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// WriteDiagnostics writes each diagnostic as file:line:col, its severity,
// summary and detail, then the source line it points at with the range
// underlined, so that editors and people find it alike:
//
//	vigil.hcl:3:3: error: Unsupported argument; An argument named "scrape_intervl" is not expected here.
//	    3 |   scrape_intervl = "10s"
//	      |   ^^^^^^^^^^^^^^
func WriteDiagnostics(w io.Writer, diags hcl.Diagnostics) error {
	sources := map[string][][]byte{}
	for _, d := range diags {
		severity := "error"
		if d.Severity == hcl.DiagWarning {
			severity = "warning"
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += "; " + d.Detail
		}
		if d.Subject == nil {
			if _, err := fmt.Fprintf(w, "%s: %s\n", severity, msg); err != nil {
				return err
			}
			continue
		}
		s := d.Subject
		if _, err := fmt.Fprintf(w, "%s:%d:%d: %s: %s\n", s.Filename, s.Start.Line, s.Start.Column, severity, msg); err != nil {
			return err
		}
		lines, ok := sources[s.Filename]
		if !ok {
			if src, err := os.ReadFile(s.Filename); err == nil {
				lines = bytes.Split(src, []byte("\n"))
			}
			sources[s.Filename] = lines
		}
		if s.Start.Line < 1 || s.Start.Line > len(lines) {
			continue
		}
		line := string(lines[s.Start.Line-1])
		end := len(line) + 1
		if s.End.Line == s.Start.Line && s.End.Column > s.Start.Column {
			end = s.End.Column
		}
		width := max(1, min(end, len(line)+1)-s.Start.Column)
		gutter := fmt.Sprintf("%5d | ", s.Start.Line)
		if _, err := fmt.Fprintf(w, "%s%s\n%s%s%s\n", gutter, line,
			strings.Repeat(" ", len(gutter)-2)+"| ", strings.Repeat(" ", max(0, s.Start.Column-1)), strings.Repeat("^", width)); err != nil {
			return err
		}
	}
	return nil
}

// CheckDiagnostics writes diags, warnings included, to w when w is not
// nil, and returns nil unless they hold an error; then the error says
// that what is not valid, followed by every diagnostic as
// WriteDiagnostics writes them.
func CheckDiagnostics(what string, diags hcl.Diagnostics, w io.Writer) error {
	if len(diags) == 0 {
		return nil
	}
	var text strings.Builder
	WriteDiagnostics(&text, diags)
	if w != nil {
		io.WriteString(w, text.String())
	}
	if diags.HasErrors() {
		return fmt.Errorf("%s is not valid:\n%s", what, text.String())
	}
	return nil
}

// LoadChecked loads file as Load does and returns its diagnostics as
// CheckDiagnostics does.
func LoadChecked(file string, w io.Writer) (*Config, error) {
	cfg, diags := Load(file)
	if err := CheckDiagnostics(fmt.Sprintf("configuration %q", file), diags, w); err != nil {
		return nil, err
	}
	return cfg, nil
}
