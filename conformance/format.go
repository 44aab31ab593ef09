package conformance

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vigilmon/vigil/sdk"
)

// WriteText writes the report for a person: a line per check with its
// status, level and ID, then why for a check that failed or was skipped,
// then a summary line.
func WriteText(w io.Writer, r Report) error {
	var b strings.Builder
	name := r.Plugin
	if r.Version != "" {
		name += " " + r.Version
	}
	fmt.Fprintf(&b, "Conformance of %s", r.Target)
	if name != "" {
		fmt.Fprintf(&b, " (%s", name)
		if r.Kind != "" {
			fmt.Fprintf(&b, ", %s", r.Kind)
		}
		b.WriteString(")")
	}
	b.WriteString("\n\n")
	for _, res := range r.Results {
		fmt.Fprintf(&b, "%-4s  %-6s  %s  (%s)\n", strings.ToUpper(string(res.Status)), res.Level, res.ID, res.Duration.Round(time.Millisecond))
		if res.Detail != "" {
			for line := range strings.SplitSeq(res.Detail, "\n") {
				fmt.Fprintf(&b, "              %s\n", line)
			}
		}
	}
	fmt.Fprintf(&b, "\n%d passed, %d failed, %d skipped in %s: ", r.Count(Pass), r.Count(Fail), r.Count(Skip), r.Duration.Round(time.Millisecond))
	switch {
	case r.Failed():
		b.WriteString("the plugin does NOT conform (a MUST check failed).\n")
	case r.Count(Pass) == 0:
		b.WriteString("nothing could be checked.\n")
	default:
		b.WriteString("the plugin conforms.\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as one indented JSON object.
func WriteJSON(w io.Writer, r Report) error {
	out := struct {
		Report
		Conforms bool `json:"conforms"`
	}{r, !r.Failed()}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteJUnit writes the report as JUnit XML, one test case per check,
// for CI systems: a failed MUST check is a failure, a failed SHOULD check
// a test case with its reason in system-out, a skipped check skipped.
func WriteJUnit(w io.Writer, r Report) error {
	type failure struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	}
	type skipped struct {
		Message string `xml:"message,attr"`
	}
	type testCase struct {
		Name      string   `xml:"name,attr"`
		ClassName string   `xml:"classname,attr"`
		Time      string   `xml:"time,attr"`
		Failure   *failure `xml:"failure,omitempty"`
		Skipped   *skipped `xml:"skipped,omitempty"`
		SystemOut string   `xml:"system-out,omitempty"`
	}
	type testSuite struct {
		XMLName  xml.Name   `xml:"testsuite"`
		Name     string     `xml:"name,attr"`
		Tests    int        `xml:"tests,attr"`
		Failures int        `xml:"failures,attr"`
		Skipped  int        `xml:"skipped,attr"`
		Time     string     `xml:"time,attr"`
		Cases    []testCase `xml:"testcase"`
	}
	seconds := func(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
	suite := testSuite{Name: "vigil conformance: " + r.Target, Tests: len(r.Results), Time: seconds(r.Duration)}
	for _, res := range r.Results {
		tc := testCase{Name: res.ID, ClassName: strings.TrimSuffix("conformance."+r.Kind, "."), Time: seconds(res.Duration)}
		switch {
		case res.Status == Skip:
			tc.Skipped = &skipped{Message: res.Detail}
			suite.Skipped++
		case res.Status == Fail && res.Level == Must:
			tc.Failure = &failure{Message: res.Reason, Text: res.Detail}
			suite.Failures++
		case res.Status == Fail:
			tc.SystemOut = "SHOULD check failed (not a failure): " + res.Reason + "\n" + res.Detail
		}
		suite.Cases = append(suite.Cases, tc)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(suite); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// Markdown is the list of checks as CHECKS.md has it.
func Markdown() string {
	var b strings.Builder
	b.WriteString(checksIntro)
	sections := []struct {
		title  string
		prefix []string
	}{
		{"Every plugin", []string{"plugin.", "config.", "call.", "lifecycle."}},
		{"Exporters", []string{"exporter."}},
		{"Discoverers", []string{"discovery."}},
		{"Notifiers", []string{"notifier."}},
	}
	for _, sec := range sections {
		fmt.Fprintf(&b, "\n## %s\n\n| ID | Level | What and why |\n|---|---|---|\n", sec.title)
		for _, c := range allChecks {
			for _, p := range sec.prefix {
				if strings.HasPrefix(c.ID, p) {
					reason := c.Reason
					if len(c.Capabilities) > 0 {
						reason += " Needs the capability `" + strings.Join(c.Capabilities, "` or `") + "`."
					}
					fmt.Fprintf(&b, "| `%s` | %s | %s |\n", c.ID, c.Level, strings.ReplaceAll(reason, "|", `\|`))
				}
			}
		}
	}
	b.WriteString(capabilitiesIntro)
	for _, d := range capabilityDocs {
		kind, _ := sdk.CapabilityKind(d.name)
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", d.name, kind, d.does)
	}
	b.WriteString(checksOutro)
	return b.String()
}

const checksIntro = `# Conformance checks

<!-- Generated from the code by TestChecksDoc: run
     go test ./conformance -run TestChecksDoc -update
     after changing a check. -->

Every check of the suite, by what it is for. A run goes through the
plugin and config checks, then those of the plugin's kind, then the call,
stdout, sensitive-value and lifecycle checks. A **MUST** check that
fails makes the plugin non-conforming (the Go harness fails the test,
` + "`vigil conformance run`" + ` exits 1); a **SHOULD** check that fails is
reported and logged but fails nothing. A check that cannot apply is
skipped and says why: the checks of another kind, the handshake and
stdout of an in-process plugin, and, as csi-sanity does for
capabilities a driver does not claim, a check that needs a capability
the plugin does not claim ("the plugin does not claim delivers-to-url").
`

const capabilitiesIntro = `
## Capabilities

What a plugin claims in ` + "`Info.Capabilities`" + ` decides which of the checks
that need to drive it run: the suite does not guess from the schema or
from what the plugin happens to do. A claim is a promise; a plugin that
claims a capability and does not behave as it says fails the checks
that need it. Claim the names the SDK defines (` + "`sdk.Capability*`" + `); a
name the suite does not know, one claimed twice or one for another kind
fails the SHOULD check ` + "`plugin.capabilities`" + `.

| Capability | Kind | What the suite does |
|---|---|---|
`

const checksOutro = `
## The sample config and the loopback receivers

The suite configures the plugin with a config it builds from the
schema (` + "`SampleConfig`" + `), with the attributes you give
(` + "`Options.ConfigJSON`" + `, or the config block of ` + "`--config`" + `) laid over it:

- each required attribute gets a value of its type: ` + "`\"conformance\"`" + `, ` + "`1`" + `,
  ` + "`false`" + `, ` + "`\"1m\"`" + `, ` + "`[\"conformance\"]`" + `, ` + "`{conformance = \"conformance\"}`" + `;
- each string attribute named ` + "`url`" + ` or ` + "`*_url`" + ` that is required or has a
  default points at the suite's **loopback receiver**, an HTTP server on
  127.0.0.1 (never another address) that lives as long as the run: it
  answers POST and other deliveries with 200 (503 and 400 while the
  failure checks run), and GET with two target groups in the format of
  Prometheus's http_sd_configs (one while ` + "`discovery.removed-group-empty`" + `
  runs); a WebAssembly module is allowed to reach 127.0.0.1 for it;
- each duration attribute whose name ends in ` + "`interval`" + ` is ` + "`\"1s\"`" + `, so that
  changes show within the suite's bounds.

Then the attributes that the capabilities the plugin claims drive (see
the table above: URL attributes, ` + "`files`" + `, ` + "`*interval`" + ` durations, the SMTP
server's) are set as the table says **whatever the config given sets**:
the checks that need a capability drive those. So a config written for
production, such as a plugin's ` + "`sample.hcl`" + `, can be given as it is: its
notifications and polls go to the suite's receivers on 127.0.0.1, not
to production. The suite's **SMTP receiver**, for ` + "`delivers-smtp`" + `, is a
plain SMTP server on 127.0.0.1 that lives as long as the run.

The sensitive-value check sets each sensitive string, list or map
attribute to a random marker (a receiver URL holding it, for a URL
attribute) and looks for the marker in errors and in everything the
plugin logs.
`
