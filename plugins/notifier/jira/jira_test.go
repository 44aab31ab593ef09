package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/internal/testreceiver"
	"github.com/vigilmon/vigil/plugins/notifier/internal/amnotify/amnotifytest"
)

func TestMain(m *testing.M) { testplugins.VerifyTestMain(m) }

// TestModule drives the module through the host against a local Jira
// that has no issue: each notification searches, and the firing one
// opens an issue.
func TestModule(t *testing.T) {
	amnotifytest.Module{
		Package: "plugins/notifier/jira", Plugin: jiraPlugin, SecretAttribute: "bearer_token",
		Config: func(base string) map[string]any {
			return map[string]any{"api_url": base + "/rest/api/2", "bearer_token": amnotifytest.Secret, "project": "OPS", "issue_type": "Bug"}
		},
		Bad: map[string]any{"api_type": "server"}, BadAttribute: "api_type",
		Answer: `{"issues": []}`,
		Check: func(t *testing.T, r testreceiver.Request) {
			var i struct {
				Fields map[string]any `json:"fields"`
			}
			if err := json.Unmarshal(r.Body, &i); err != nil {
				t.Fatal(err)
			}
			labels, _ := i.Fields["labels"].([]any)
			if r.Method != http.MethodPost || r.Path != "/rest/api/2/issue" || r.Header.Get("Authorization") != "Bearer "+amnotifytest.Secret ||
				i.Fields["summary"] != "[FIRING:1] InstanceDown (host:9100 node critical)" || len(labels) != 1 || !strings.HasPrefix(labels[0].(string), "ALERT{") {
				t.Errorf("%s %s\n%s", r.Method, r.Path, r.Body)
			}
		},
	}.Run(t)
}

// TestSample configures the plugin with sample.hcl.
func TestSample(t *testing.T) {
	amnotifytest.Sample(t, jiraPlugin, "example.atlassian.net", map[string]string{"JIRA_API_TOKEN": "t"})
}

// TestLifecycle updates the open issue of a firing group, and resolves it
// with the resolve transition once the group is resolved.
func TestLifecycle(t *testing.T) {
	var (
		mu       sync.Mutex
		calls    []string
		category = "new"
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		calls = append(calls, r.Method+" "+r.URL.Path+" "+strings.TrimSpace(string(body)))
		mu.Unlock()
		switch {
		case strings.HasSuffix(r.URL.Path, "/search/jql"):
			io.WriteString(w, `{"issues": [{"key": "OPS-1", "fields": {"status": {"statusCategory": {"key": "`+category+`"}}}}]}`)
		case r.Method == http.MethodGet:
			io.WriteString(w, `{"transitions": [{"id": "11", "name": "Start"}, {"id": "31", "name": "Done"}]}`)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	values, err := jiraPlugin.Schema.Values(map[string]any{
		"api_url": srv.URL + "/rest/api/2", "api_type": "cloud", "project": "OPS", "issue_type": "Bug",
		"resolve_transition": "Done", "update_description": false,
	})
	if err != nil {
		t.Fatal(err)
	}
	j, err := newJira(values)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Notify(t.Context(), amnotifytest.Notification("firing")); err != nil {
		t.Fatal(err)
	}
	if err := j.Notify(t.Context(), amnotifytest.Notification("resolved")); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 6 || !strings.HasPrefix(calls[0], "POST /rest/api/3/search/jql ") || !strings.Contains(calls[0], `statusCategory != Done and project=\"OPS\"`) ||
		!strings.HasPrefix(calls[1], "PUT /rest/api/2/issue/OPS-1 ") || strings.Contains(calls[1], "description") || !strings.Contains(calls[1], `"summary":"[FIRING:1]`) ||
		!strings.HasPrefix(calls[3], "PUT /rest/api/2/issue/OPS-1 ") ||
		calls[4] != "GET /rest/api/2/issue/OPS-1/transitions " || calls[5] != `POST /rest/api/2/issue/OPS-1/transitions {"transition":{"id":"31"}}` {
		t.Errorf("calls:\n%s", strings.Join(calls, "\n"))
	}
}
