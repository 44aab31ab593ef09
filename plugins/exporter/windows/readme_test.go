package main

import (
	"flag"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite README.md's options table from the plugin's options")

// TestReadme checks that README.md's options table is the plugin's
// options; -update rewrites it.
func TestReadme(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?s)<!-- begin options -->\n.*?<!-- end options -->`)
	if !re.Match(readme) {
		t.Fatal("README.md has no <!-- begin options --> ... <!-- end options --> section")
	}
	text := re.ReplaceAllLiteralString(string(readme), "<!-- begin options -->\n"+optionsTable()+"<!-- end options -->")
	if text == string(readme) {
		return
	}
	if *update {
		if err := os.WriteFile("README.md", []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Error("README.md's options table is not the plugin's options: run go test -run TestReadme -update")
}

// optionsTable lists the options.
func optionsTable() string {
	var b strings.Builder
	b.WriteString("| Attribute | Type | Default | windows_exporter's flag | Meaning |\n|---|---|---|---|---|\n")
	for _, o := range options {
		var typ, def string
		switch o.kind {
		case kindBool:
			typ, def = "bool", "`"+strconv.FormatBool(o.def.(bool))+"`"
		case kindString:
			typ, def = "string", "`"+strconv.Quote(o.def.(string))+"`"
		default:
			typ, def = "string (regular expression)", "`"+strconv.Quote(o.def.(string))+"`"
		}
		help := strings.ReplaceAll(o.help, "|", `\|`)
		b.WriteString("| `" + o.attr + "` | " + typ + " | " + def + " | `--" + o.flag + "` | " + help + " |\n")
	}
	return b.String()
}
