package api

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseQuery checks the tree of /api/v1/parse_query against the JSON
// Prometheus gives for the same expressions.
func TestParseQuery(t *testing.T) {
	srv := newTestServer(t)
	sel := func(name string, extra string) string {
		return `{"type":"vectorSelector","name":"` + name + `","offset":0,"offsetExpr":null,` +
			`"matchers":[{"name":"__name__","value":"` + name + `","type":"="}],` +
			`"timestamp":null,"startOrEnd":` + extra + `,"anchored":false,"smoothed":false}`
	}
	for query, want := range map[string]string{
		`sum by (job) (rate(x{code=~"5.."}[5m] offset 1m))`: `{"type":"aggregation","op":"sum","param":null,"grouping":["job"],"without":false,
			"expr":{"type":"call","func":{"name":"rate","argTypes":["matrix"],"variadic":0,"returnType":"vector"},
			"args":[{"type":"matrixSelector","name":"x","range":300000,"rangeExpr":null,"offset":60000,"offsetExpr":null,
			"matchers":[{"name":"code","value":"5..","type":"=~"},{"name":"__name__","value":"x","type":"="}],
			"timestamp":null,"startOrEnd":null,"anchored":false,"smoothed":false}]}}`,
		`a / on(job) group_left(env) b`: `{"type":"binaryExpr","op":"/","lhs":` + sel("a", "null") + `,"rhs":` + sel("b", "null") + `,
			"matching":{"card":"many-to-one","labels":["job"],"on":true,"include":["env"],"fillValues":{"lhs":null,"rhs":null}},"bool":false}`,
		`x > bool 1`: `{"type":"binaryExpr","op":">","lhs":` + sel("x", "null") + `,"rhs":{"type":"numberLiteral","val":"1"},"matching":null,"bool":true}`,
		`-x @ end()`: `{"type":"unaryExpr","op":"-","expr":` + sel("x", `"end"`) + `}`,
		`max_over_time(x[10m:1m])`: `{"type":"call","func":{"name":"max_over_time","argTypes":["matrix"],"variadic":0,"returnType":"vector"},
			"args":[{"type":"subquery","expr":` + sel("x", "null") + `,"range":600000,"rangeExpr":null,"offset":0,"offsetExpr":null,
			"step":60000,"stepExpr":null,"timestamp":null,"startOrEnd":null}]}`,
		`foo[5m+1m]`: `{"type":"matrixSelector","name":"foo","range":0,"offset":0,"offsetExpr":null,
			"matchers":[{"name":"__name__","value":"foo","type":"="}],"timestamp":null,"startOrEnd":null,"anchored":false,"smoothed":false,
			"rangeExpr":{"type":"durationExpr","op":"+","wrapped":false,
			"lhs":{"type":"numberLiteral","val":"300","duration":true},"rhs":{"type":"numberLiteral","val":"60","duration":true}}}`,
		`topk(3, ("s" , x))`: ``,
		`("s")`:              `{"type":"parenExpr","expr":{"type":"stringLiteral","val":"s"}}`,
	} {
		t.Run(query, func(t *testing.T) {
			status, r := get(t, srv, "/api/v1/parse_query", url.Values{"query": {query}})
			if want == "" {
				if status != 400 || r.ErrorType != "bad_data" {
					t.Fatalf("got %d %q, want 400 bad_data", status, r.ErrorType)
				}
				return
			}
			if status != 200 {
				t.Fatalf("status %d: %s", status, r.Error)
			}
			var got, exp any
			if err := json.Unmarshal(r.Data, &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(want), &exp); err != nil {
				t.Fatalf("bad expectation: %v", err)
			}
			if diff := cmp.Diff(exp, got); diff != "" {
				t.Errorf("tree differs (-want +got):\n%s", diff)
			}
		})
	}
}
