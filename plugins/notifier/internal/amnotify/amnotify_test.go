package amnotify

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vigilmon/vigil/sdk"
)

// TestRender renders default.tmpl's templates over a notification as
// Alertmanager renders them.
func TestRender(t *testing.T) {
	tmpl, err := New()
	if err != nil {
		t.Fatal(err)
	}
	n := Sample()
	r := tmpl.Render(n)
	if got := r.Text(`{{ template "opsgenie.default.message" . }}`); got != "[FIRING:1] InstanceDown (host:9100 node critical)" {
		t.Errorf("opsgenie.default.message: %q", got)
	}
	if got := r.Text(`{{ template "__alertmanagerURL" . }}`); got != "http://vigil.example.com:9090/#/alerts?receiver=ops" {
		t.Errorf("__alertmanagerURL: %q", got)
	}
	if got := r.HTML(`<b>{{ .CommonLabels.alertname }}</b>{{ "<" }}`); got != "<b>InstanceDown</b>&lt;" {
		t.Errorf("html: %q", got)
	}
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	if got := r.Text(`{{ template "nope" . }}`); got != "" || r.Err() == nil {
		t.Errorf("an unknown template: %q, %v", got, r.Err())
	}
	if got := r.Text(`{{ .Status }}`); got != "" {
		t.Errorf("after an error: %q", got)
	}

	var ae *sdk.AttributeError
	if err := tmpl.Check("message", "ok", "{{ .Status"); !errors.As(err, &ae) || ae.Attribute != "message" {
		t.Errorf("a bad template: %v", err)
	}
	if err := tmpl.Check("message", `{{ template "telegram.default.message" . }}`); err != nil {
		t.Error(err)
	}
}

// TestTruncate cuts texts as Alertmanager's notify.TruncateInRunes and
// TruncateInBytes do.
func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		in    string
		n     int
		runes string
		bytes string
		cutR  bool
		cutB  bool
	}{
		{"abcde", 5, "abcde", "abcde", false, false},
		{"abcdef", 5, "abcd…", "ab…", true, true},
		{"äöüäöü", 5, "äöüä…", "ä…", true, true},
		{"abcdef", 3, "abc", "…", true, true},
		{"abcdef", 2, "ab", "..", true, true},
	} {
		if s, cut := TruncateInRunes(c.in, c.n); s != c.runes || cut != c.cutR {
			t.Errorf("TruncateInRunes(%q, %d) = %q, %v", c.in, c.n, s, cut)
		}
		if s, cut := TruncateInBytes(c.in, c.n); s != c.bytes || cut != c.cutB {
			t.Errorf("TruncateInBytes(%q, %d) = %q, %v", c.in, c.n, s, cut)
		}
	}
	if h := Hash(`{}:{alertname="a"}`); len(h) != 64 || h != Hash(`{}:{alertname="a"}`) || h == Hash(`{}:{alertname="b"}`) {
		t.Errorf("Hash: %q", h)
	}
}

// TestDo judges answers, and keeps the URL out of errors.
func TestDo(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		w.Write([]byte("answer"))
	}))
	defer srv.Close()
	do := func() error {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/secret", nil)
		return Do("svc", req)
	}
	if err := do(); err != nil {
		t.Fatal(err)
	}
	for s, permanent := range map[int]bool{400: true, 429: false, 503: false} {
		status = s
		err := do()
		if err == nil || sdk.IsPermanent(err) != permanent || !strings.Contains(err.Error(), "answer") {
			t.Errorf("%d: %v", s, err)
		}
	}
	srv.Close()
	if err := do(); err == nil || sdk.IsPermanent(err) || strings.Contains(err.Error(), "secret") {
		t.Errorf("unreachable: %v", err)
	}
}
