package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/spf13/cobra"

	"github.com/vigilmon/vigil/hclconfig"
)

func newFmtCommand() *cobra.Command {
	var check bool
	cmd := &cobra.Command{
		Use:   "fmt [FILE...]",
		Short: "Rewrite HCL configuration files in the canonical format",
		Long: `Rewrite each FILE in the canonical HCL format, as terraform fmt does.
With no FILE, format standard input to standard output. With --check,
change nothing: list the files that are not formatted and exit 1 if any.
A file that is not valid HCL is reported with file:line:col and left alone.`,
		RunE: func(cmd *cobra.Command, files []string) error {
			if len(files) == 0 {
				if check {
					return usageError{errors.New("--check needs at least one FILE")}
				}
				return formatStream(cmd.InOrStdin(), cmd.OutOrStdout())
			}
			return formatFiles(cmd.OutOrStdout(), cmd.ErrOrStderr(), files, check)
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "list unformatted files and exit 1 if any; change nothing")
	return cmd
}

// formatSource checks the syntax of src and returns it formatted; a
// syntax error comes back as HCL diagnostics.
func formatSource(name string, src []byte) ([]byte, error) {
	if _, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos); diags.HasErrors() {
		return nil, diagsError{diags}
	}
	return hclwrite.Format(src), nil
}

// diagsError carries HCL diagnostics as an error.
type diagsError struct{ diags hcl.Diagnostics }

func (e diagsError) Error() string { return e.diags.Error() }

// report writes err to w, as diagnostics with source lines when it has them.
func report(w io.Writer, err error) {
	var de diagsError
	if errors.As(err, &de) {
		hclconfig.WriteDiagnostics(w, de.diags)
		return
	}
	fmt.Fprintln(w, err)
}

func formatStream(in io.Reader, out io.Writer) error {
	src, err := io.ReadAll(in)
	if err != nil {
		return fmt.Errorf("cannot read standard input: %w", err)
	}
	formatted, err := formatSource("<stdin>", src)
	if err != nil {
		return err
	}
	_, err = out.Write(formatted)
	return err
}

// formatFiles formats every file, or with check lists the unformatted
// ones. It goes through all files before it reports a failure.
func formatFiles(stdout, stderr io.Writer, files []string, check bool) error {
	var failed, unformatted int
	for _, name := range files {
		changed, err := formatFile(name, !check)
		switch {
		case err != nil:
			report(stderr, err)
			failed++
		case changed:
			fmt.Fprintln(stdout, name)
			unformatted++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files could not be formatted", failed, len(files))
	}
	if check && unformatted > 0 {
		return fmt.Errorf("%d of %d files are not formatted", unformatted, len(files))
	}
	return nil
}

// formatFile reports whether name is not in the canonical format and, with
// write, rewrites it.
func formatFile(name string, write bool) (bool, error) {
	src, err := os.ReadFile(name)
	if err != nil {
		return false, fmt.Errorf("cannot read %q: %w", name, err)
	}
	formatted, err := formatSource(name, src)
	if err != nil {
		return false, err
	}
	if bytes.Equal(src, formatted) {
		return false, nil
	}
	if write {
		fi, err := os.Stat(name)
		if err != nil {
			return false, fmt.Errorf("cannot stat %q: %w", name, err)
		}
		if err := os.WriteFile(name, formatted, fi.Mode().Perm()); err != nil {
			return false, fmt.Errorf("cannot write %q: %w", name, err)
		}
	}
	return true, nil
}
