package promexport

import (
	"errors"
	"testing"
)

// TestParseDesc checks that a descriptor's String reads, and that one
// written otherwise is told apart, so that the exporter falls back on
// Gather.
func TestParseDesc(t *testing.T) {
	di, err := parseDesc(`Desc{fqName: "a_total", help: "Say \"a\".", unit: "", constLabels: {}, variableLabels: {x}}`)
	if err != nil || di.name != "a_total" || di.help != `Say "a".` || di.unit != "" {
		t.Fatalf("got %+v, %v", di, err)
	}
	for _, s := range []string{
		`Desc{name: "a", help: "b"}`,
		`Desc{fqName: "a", help: "b"}`,
		`Desc{fqName: a, help: "b", unit: ""}`,
	} {
		if _, err := parseDesc(s); !errors.Is(err, errDescFormat) {
			t.Errorf("%s: got %v, want errDescFormat", s, err)
		}
	}
	if _, err := parseDesc(`Desc{fqName: "", help: "b", unit: ""}`); err == nil || errors.Is(err, errDescFormat) {
		t.Errorf("an empty name: got %v, want an invalid name", err)
	}
}
