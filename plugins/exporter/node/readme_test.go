//go:build linux

package main

import (
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the tables of README.md from node_exporter's flags")

// TestReadme checks that README.md's tables of collectors and options are
// those of the node_exporter the plugin is built with; -update rewrites
// them.
func TestReadme(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	for name, table := range map[string]string{"collectors": collectorsTable(), "options": optionsTable()} {
		re := regexp.MustCompile(`(?s)(<!-- begin ` + name + ` -->\n).*?(<!-- end ` + name + ` -->)`)
		if !re.MatchString(text) {
			t.Fatalf("README.md has no <!-- begin %s --> ... <!-- end %s --> section", name, name)
		}
		text = re.ReplaceAllLiteralString(text, "<!-- begin "+name+" -->\n"+table+"<!-- end "+name+" -->")
	}
	if text == string(readme) {
		return
	}
	if *update {
		if err := os.WriteFile("README.md", []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Error("README.md's tables are not node_exporter's collectors and options: run go test ./plugins/exporter/node -run TestReadme -update")
}

// collectorsTable lists the collectors, those on by default first.
func collectorsTable() string {
	var on, off []string
	for _, c := range collectorSwitches {
		if c.enabled {
			on = append(on, "`"+c.name+"`")
		} else {
			off = append(off, "`"+c.name+"`")
		}
	}
	return "| Default | Collectors |\n|---|---|\n" +
		"| on | " + strings.Join(on, ", ") + " |\n" +
		"| off | " + strings.Join(off, ", ") + " |\n"
}

// optionsTable lists the options.
func optionsTable() string {
	var b strings.Builder
	b.WriteString("| Attribute | Type | Default | node_exporter's flag | Meaning |\n|---|---|---|---|---|\n")
	for _, o := range options {
		def := o.defaultText()
		if def != "" {
			def = "`" + strings.ReplaceAll(def, "|", `\|`) + "`"
		}
		help := strings.ReplaceAll(strings.TrimSpace(o.help), "|", `\|`)
		b.WriteString("| `" + o.attr + "` | " + o.typeName() + " | " + def + " | `--" + o.flag + "` | " + help + " |\n")
	}
	return b.String()
}
