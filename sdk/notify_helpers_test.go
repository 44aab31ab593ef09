package sdk

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"text/template"
	"time"
)

func TestResponseError(t *testing.T) {
	answer := func(code int, body string) *http.Response {
		return &http.Response{StatusCode: code, Status: http.StatusText(code), Body: io.NopCloser(strings.NewReader(body))}
	}
	if err := ResponseError("svc", answer(202, "")); err != nil {
		t.Errorf("202: %v", err)
	}
	for code, permanent := range map[int]bool{400: true, 404: true, 429: false, 500: false, 503: false} {
		err := ResponseError("svc", answer(code, strings.Repeat("x", 2000)))
		if err == nil || IsPermanent(err) != permanent || !strings.HasPrefix(err.Error(), "svc answered") || len(err.Error()) > 600 {
			t.Errorf("%d: %v (permanent %v)", code, err, IsPermanent(err))
		}
	}
}

func TestTemplateFuncs(t *testing.T) {
	tmpl := template.Must(template.New("t").Funcs(TemplateFuncs()).Parse(
		`{{ .Status | toUpper }} {{ len (firing .Alerts) }}/{{ len (resolved .Alerts) }} {{ join "," (sortedPairs .CommonLabels) }}`))
	n := &Notification{Status: "firing", CommonLabels: map[string]string{"job": "api", "env": "prod"},
		Alerts: []Alert{{Status: "firing", StartsAt: time.Now()}, {Status: "resolved"}, {Status: "firing"}}}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, n); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "FIRING 2/1 env=prod,job=api" {
		t.Errorf("got %q", got)
	}
}
