package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilmon/vigil/internal/testplugins"
)

// amChannel is a notification channel that both Alertmanager 0.25 (the
// prometheus-alertmanager of Debian) and a Vigil notifier plugin have,
// whose requests the test compares.
type amChannel struct {
	// plugin is the plugin's package; wasm says it is a WebAssembly
	// module.
	plugin string
	wasm   bool
	// alertmanager is the receiver's channel config in alertmanager.yml
	// and vigil the body of the notifier block's config, both with %[1]s
	// for the base URL of the local receiver they post to.
	alertmanager, vigil string
	// form says the bodies are HTML form data, not JSON.
	form bool
	// ignored are the fields of the bodies (as JSON pointers, "/a/0/b"),
	// that are left out of the comparison, each with why: timestamps and
	// ids, and any other difference, named.
	ignored map[string]string
	// requests is how many requests each side sends, for the alert
	// firing and then resolved; one each when 0.
	firing, resolved int
	// query says the request's parameters are its URL's query, as form
	// data, which is compared as the body is; the path is compared
	// without it.
	query bool
	// host, for a channel whose URL Alertmanager 0.25 does not let one
	// set, is the host it posts to: alertmanager's %[2]s is then the URL
	// of a proxy that hands the requests to that host to the receiver
	// (with TLS, which the http_config must not verify).
	host string
	// answer is what the receiver answers a success with, when not the
	// JSON that satisfies the services that check it.
	answer string
	// onlyVigil are the fields only Vigil sends, as JSON pointers, each
	// with why, such as a field Alertmanager added after 0.25.
	onlyVigil map[string]string
	// golden, for a channel newer than Alertmanager 0.25, names the file
	// in testdata/alertmanager-channels that holds the requests
	// Alertmanager sends, written from its source, which source names;
	// alertmanager is then unused.
	golden, source string
}

// goldenRequest is a request of a golden file.
type goldenRequest struct {
	Method      string          `json:"method"`
	Path        string          `json:"path"`
	ContentType string          `json:"contentType"`
	Body        json.RawMessage `json:"body"`
}

// amChannels are the channels compared with Alertmanager, by name: the
// name is the receiver's in both, and the value of the alerts' channel
// label that routes to it.
var amChannels = map[string]amChannel{
	"opsgenie": {
		plugin: "plugins/notifier/opsgenie", wasm: true,
		alertmanager: "opsgenie_configs:\n      - api_key: opsgenie-key\n        api_url: '%[1]s/'\n        tags: '{{ .CommonLabels.job }},critical'\n        priority: P1",
		vigil:        "api_key = \"opsgenie-key\"\n    api_url = \"%[1]s/\"\n    tags = \"{{ .CommonLabels.job }},critical\"\n    priority = \"P1\"",
	},
	"msteams": {
		plugin: "plugins/notifier/msteams", wasm: true,
		vigil:  `webhook_url = "%[1]s/webhookb2/x"`,
		golden: "msteams.json", source: "notify/msteams/msteams.go of Alertmanager v0.34.1 (the channel is new in 0.26)",
	},
	"msteamsv2": {
		plugin: "plugins/notifier/msteamsv2", wasm: true,
		vigil:  `webhook_url = "%[1]s/workflows/x"`,
		golden: "msteamsv2.json", source: "notify/msteamsv2/msteamsv2.go of Alertmanager v0.34.1 (the channel is new in 0.28)",
	},
	"telegram": {
		plugin: "plugins/notifier/telegram", wasm: true,
		alertmanager: "telegram_configs:\n      - bot_token: '123456:telegram-token'\n        chat_id: -1001234567890\n        api_url: '%[1]s'",
		vigil:        "bot_token = \"123456:telegram-token\"\n    chat_id = -1001234567890\n    api_url = \"%[1]s\"",
	},
	"discord": {
		plugin: "plugins/notifier/discord", wasm: true,
		alertmanager: "discord_configs:\n      - webhook_url: '%[1]s/api/webhooks/1/discord-token'",
		vigil:        `webhook_url = "%[1]s/api/webhooks/1/discord-token"`,
	},
	"pushover": {
		plugin: "plugins/notifier/pushover", wasm: true, query: true, host: "api.pushover.net",
		alertmanager: "pushover_configs:\n      - user_key: pushover-user\n        token: pushover-token\n        http_config:\n          proxy_url: '%[2]s'\n          tls_config:\n            insecure_skip_verify: true",
		vigil:        "user_key = \"pushover-user\"\n    token = \"pushover-token\"\n    api_url = \"%[1]s/1/messages.json\"",
		onlyVigil: map[string]string{
			"/device": "Alertmanager sends the device since 0.26 (empty: all the user's devices); 0.25 did not",
		},
	},
	"victorops": {
		plugin: "plugins/notifier/victorops", wasm: true,
		alertmanager: "victorops_configs:\n      - api_key: victorops-key\n        routing_key: '{{ .CommonLabels.job }}'\n        api_url: '%[1]s/integrations/generic/20131114/alert/'\n        custom_fields:\n          team: ops",
		vigil:        "api_key = \"victorops-key\"\n    routing_key = \"{{ .CommonLabels.job }}\"\n    api_url = \"%[1]s/integrations/generic/20131114/alert/\"\n    custom_fields = { team = \"ops\" }",
	},
	"webex": {
		plugin: "plugins/notifier/webex", wasm: true,
		alertmanager: "webex_configs:\n      - room_id: room-1\n        api_url: '%[1]s/v1/messages'\n        http_config:\n          authorization:\n            credentials: webex-token",
		vigil:        "bot_token = \"webex-token\"\n    room_id = \"room-1\"\n    api_url = \"%[1]s/v1/messages\"",
	},
	"sns": {
		plugin: "plugins/notifier/sns", wasm: true, form: true,
		alertmanager: "sns_configs:\n      - api_url: '%[1]s/'\n        sigv4:\n          region: us-east-1\n          access_key: AKIDEXAMPLE\n          secret_key: sns-secret\n        topic_arn: 'arn:aws:sns:us-east-1:123456789012:alerts'\n        attributes:\n          team: ops",
		vigil:        "api_url = \"%[1]s/\"\n    region = \"us-east-1\"\n    access_key = \"AKIDEXAMPLE\"\n    secret_key = \"sns-secret\"\n    topic_arn = \"arn:aws:sns:us-east-1:123456789012:alerts\"\n    attributes = { team = \"ops\" }",
		answer:       `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>1</MessageId></PublishResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></PublishResponse>`,
	},
	"jira": {
		plugin: "plugins/notifier/jira", wasm: true,
		vigil:  "api_url = \"%[1]s/rest/api/2\"\n    username = \"jira-user\"\n    password = \"jira-token\"\n    project = \"OPS\"\n    issue_type = \"Bug\"\n    labels = [\"vigil\"]",
		golden: "jira.json", source: "notify/jira/jira.go of Alertmanager v0.34.1 (the channel is new in 0.28): a search, then a new issue while firing; resolved, a search that finds no open issue (the receiver has none), and nothing more",
		firing: 2,
	},
	"rocketchat": {
		plugin: "plugins/notifier/rocketchat", wasm: true,
		vigil:  "token = \"rocketchat-token\"\n    token_id = \"user-1\"\n    api_url = \"%[1]s/\"\n    channel = \"#alerts\"",
		golden: "rocketchat.json", source: "notify/rocketchat/rocketchat.go of Alertmanager v0.34.1 (the channel is new in 0.28), with send_resolved: true (its default is false)",
	},
	"incidentio": {
		plugin: "plugins/notifier/incidentio", wasm: true,
		vigil:  "url = \"%[1]s/v2/alert_events/http/source-1\"\n    alert_source_token = \"incidentio-token\"",
		golden: "incidentio.json", source: "notify/incidentio/incidentio.go of Alertmanager v0.34.1 (the channel is new in 0.29)",
		ignored: map[string]string{
			"/alerts/0/startsAt":    "a timestamp: when the test started the alert",
			"/alerts/0/endsAt":      "a timestamp: Alertmanager's guess for a firing alert, when each server resolved it",
			"/alerts/0/fingerprint": "an id: Vigil's is the hash of Prometheus's labels.Labels, Alertmanager's model.LabelSet.Fingerprint",
			"/notification_reason":  "Vigil's notifications do not say why they are sent: the plugin sends \"unknown\", as Alertmanager does when it does not know; Alertmanager sends \"first notification\", then \"all alerts resolved\"",
		},
	},
	// The webhook notifier, a gRPC plugin, sends Alertmanager's webhook
	// message: it checks the comparison itself.
	"webhook": {
		plugin:       "plugins/notifier/webhook",
		alertmanager: "webhook_configs:\n      - url: '%[1]s/hook'",
		vigil:        `url = "%[1]s/hook"`,
		ignored: map[string]string{
			"/alerts/0/fingerprint": "an id: Vigil's is the hash of Prometheus's labels.Labels, Alertmanager's model.LabelSet.Fingerprint",
			"/alerts/0/endsAt":      "a firing alert's end is Alertmanager's guess (now + resolve_timeout), which Vigil sends as the zero time; resolved, it is the time each server resolved it",
		},
	},
}

// receivedRequest is what a local receiver got.
type receivedRequest struct {
	method, path, contentType string
	body                      []byte
}

// channelReceiver records the requests of each channel: the first
// segment of a request's path names the channel.
type channelReceiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs map[string][]receivedRequest
}

func newChannelReceiver(t *testing.T) *channelReceiver {
	r := &channelReceiver{reqs: map[string][]receivedRequest{}}
	r.Server = httptest.NewServer(r.handler(nil))
	t.Cleanup(r.Close)
	return r
}

// handler records the requests; those to a host of hosts (through the
// proxy of proxyHosts) are the channel's that hosts names.
func (r *channelReceiver) handler(hosts map[string]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		channel, rest, _ := strings.Cut(strings.TrimPrefix(req.URL.Path, "/"), "/")
		if c, ok := hosts[req.Host]; ok {
			channel, rest = c, strings.TrimPrefix(req.URL.Path, "/")
		}
		path := "/" + rest
		if req.URL.RawQuery != "" {
			path += "?" + req.URL.RawQuery
		}
		r.mu.Lock()
		r.reqs[channel] = append(r.reqs[channel], receivedRequest{req.Method, path, req.Header.Get("Content-Type"), body})
		r.mu.Unlock()
		if answer := amChannels[channel].answer; answer != "" {
			io.WriteString(w, answer)
			return
		}
		// What the services answer a success with, where they check it.
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok": true, "result": {"message_id": 1, "chat": {"id": 1}}, "status": 1, "request": "0"}`)
	})
}

// proxyHosts starts a proxy for the requests to hosts, which r records
// as the channels hosts names: it answers CONNECT and hands the tunnel
// to a TLS server of r's. It returns the proxy's URL.
func proxyHosts(t *testing.T, r *channelReceiver, hosts map[string]string) string {
	tlsServer := httptest.NewTLSServer(r.handler(hosts))
	t.Cleanup(tlsServer.Close)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		host, _, _ := strings.Cut(req.Host, ":")
		if _, ok := hosts[host]; req.Method != http.MethodConnect || !ok {
			http.Error(w, "only CONNECT to a channel's host", http.StatusForbidden)
			return
		}
		upstream, err := net.Dial("tcp", tlsServer.Listener.Addr().String())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			upstream.Close()
			return
		}
		io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
		go func() {
			io.Copy(upstream, buf)
			upstream.Close()
		}()
		io.Copy(conn, upstream)
		conn.Close()
	}))
	t.Cleanup(proxy.Close)
	return proxy.URL
}

// requests are those the channel got so far, a request the same as the
// one before it left out: a delivery retried, because the answer came
// too late on a loaded machine, is sent again.
func (r *channelReceiver) requests(channel string) []receivedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.CompactFunc(slices.Clone(r.reqs[channel]), func(a, b receivedRequest) bool {
		return a.method == b.method && a.path == b.path && bytes.Equal(a.body, b.body)
	})
}

// alertmanagerPath returns the path of Debian's prometheus-alertmanager,
// skipping t without it unless VIGIL_REQUIRE_AMTOOL is set (the same
// package has amtool).
func alertmanagerPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		if os.Getenv(requireAmtoolEnv) != "" {
			t.Fatalf("prometheus-alertmanager is required (%s is set) but missing: %v", requireAmtoolEnv, err)
		}
		t.Skipf("needs prometheus-alertmanager (apt-get install prometheus-alertmanager); set %s=1 to fail instead of skipping", requireAmtoolEnv)
	}
	return path
}

// TestAlertmanagerChannels sends the same alert through Alertmanager 0.25
// and through Vigil, each with a receiver per channel of amChannels
// pointed at a local receiver of its own, firing and then resolved, and
// compares the requests of each channel: method, path, content type and
// body, apart from the fields the channel lists with a reason.
func TestAlertmanagerChannels(t *testing.T) {
	amBinary := alertmanagerPath(t)
	dir := t.TempDir()
	amRecv, vigilRecv := newChannelReceiver(t), newChannelReceiver(t)
	proxied := map[string]string{}
	for name, c := range amChannels {
		if c.host != "" {
			proxied[c.host] = name
		}
	}
	proxy := proxyHosts(t, amRecv, proxied)
	const externalURL = "http://alerts.example.com"
	names := slices.Sorted(func(yield func(string) bool) {
		for name := range amChannels {
			if !yield(name) {
				return
			}
		}
	})

	// Alertmanager: a route per channel, by the alerts' channel label.
	var amYAML strings.Builder
	amYAML.WriteString("route:\n  receiver: none\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 1s\n  routes:\n")
	for _, name := range names {
		fmt.Fprintf(&amYAML, "    - receiver: %s\n      matchers: ['channel=%s']\n", name, name)
	}
	amYAML.WriteString("receivers:\n  - name: none\n")
	for _, name := range names {
		if amChannels[name].golden != "" {
			fmt.Fprintf(&amYAML, "  - name: %s\n", name)
			continue
		}
		fmt.Fprintf(&amYAML, "  - name: %s\n    %s\n", name, fmt.Sprintf(amChannels[name].alertmanager, amRecv.URL+"/"+name, proxy))
	}
	amConfig := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(amConfig, []byte(amYAML.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	amAddr := freeLoopbackAddr(t)
	am := exec.Command(amBinary, "--config.file="+amConfig, "--storage.path="+filepath.Join(dir, "am"),
		"--web.listen-address="+amAddr, "--cluster.listen-address=", "--web.external-url="+externalURL)
	var amLog bytes.Buffer
	am.Stdout, am.Stderr = &amLog, &amLog
	if err := am.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		am.Process.Kill()
		am.Wait()
		if t.Failed() {
			t.Logf("alertmanager:\n%s", amLog.String())
		}
	}()

	// Vigil: the same routes, to notifiers of the plugins.
	var hcl strings.Builder
	dataDir := filepath.Join(dir, "data")
	fmt.Fprintf(&hcl, "server {\n  data_dir = %q\n  external_url = %q\n}\n", dataDir, externalURL)
	var modules []string
	for _, name := range names {
		c := amChannels[name]
		if c.wasm {
			module := testplugins.BuildWasm(t, c.plugin)
			modules = append(modules, module)
			// A loaded machine may take a while to start a module instance.
			fmt.Fprintf(&hcl, "plugin %q {\n  source = %q\n  allow_hosts = [\"127.0.0.1\"]\n  call_timeout = \"2m\"\n}\n", name, module)
		} else {
			fmt.Fprintf(&hcl, "plugin %q {\n  source = %q\n}\n", name, testplugins.Build(t, c.plugin))
		}
		fmt.Fprintf(&hcl, "notifier %q {\n  plugin = %[1]q\n  config {\n    %s\n  }\n}\n", name, fmt.Sprintf(c.vigil, vigilRecv.URL+"/"+name))
	}
	hcl.WriteString("route {\n  receiver = \"" + names[0] + "\"\n  group_by = [\"alertname\"]\n  group_wait = \"1s\"\n  group_interval = \"1s\"\n")
	for _, name := range names {
		fmt.Fprintf(&hcl, "  route {\n    matchers = [\"channel=%s\"]\n    receiver = %[1]q\n  }\n", name)
	}
	hcl.WriteString("}\n")
	vigilConfig := filepath.Join(dir, "vigil.hcl")
	if err := os.WriteFile(vigilConfig, []byte(hcl.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// The server compiles its modules before it listens: compile them
	// into its cache first, as a program built like it.
	precompile := exec.Command("go", append([]string{"run", "../../core/pluginhost/testdata/wasmprecompile", "-cache", filepath.Join(dataDir, "wasm-cache")}, modules...)...)
	if out, err := precompile.CombinedOutput(); err != nil {
		t.Fatalf("cannot compile the modules: %v\n%s", err, out)
	}
	srv := startServer(t, "--config", vigilConfig)
	waitFor(t, "Alertmanager to be ready", func() bool {
		resp, err := http.Get("http://" + amAddr + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	// The alerts, one per channel, firing and then resolved, posted to
	// both servers' Alertmanager API.
	startsAt := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	post := func(endsAt time.Time) {
		t.Helper()
		var alerts []map[string]any
		for _, name := range names {
			a := map[string]any{
				"labels": map[string]string{
					"alertname": "InstanceDown", "channel": name, "instance": "host-a:9100", "job": "node", "severity": "critical",
				},
				"annotations": map[string]string{
					"summary": "host-a:9100 is down", "description": "host-a:9100 has not answered for 5 minutes.",
				},
				"startsAt":     startsAt.Format(time.RFC3339),
				"generatorURL": "http://vigil.example.com/graph?g0.expr=up+%3D%3D+0",
			}
			if !endsAt.IsZero() {
				a["endsAt"] = endsAt.Format(time.RFC3339)
			}
			alerts = append(alerts, a)
		}
		body, _ := json.Marshal(alerts)
		for _, addr := range []string{amAddr, srv.addr} {
			resp, err := http.Post("http://"+addr+"/api/v2/alerts", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %s %s", addr, resp.Status, msg)
			}
		}
	}
	count := func(c amChannel, resolved bool) int {
		n := max(c.firing, 1)
		if resolved {
			n += max(c.resolved, 1)
		}
		return n
	}
	wait := func(resolved bool) {
		t.Helper()
		missing := func() []string {
			var out []string
			for _, name := range names {
				c := amChannels[name]
				n := count(c, resolved)
				am, vigil := len(amRecv.requests(name)), len(vigilRecv.requests(name))
				if (c.golden == "" && am < n) || vigil < n {
					out = append(out, fmt.Sprintf("%s: Alertmanager sent %d, Vigil %d of %d", name, am, vigil, n))
				}
			}
			return out
		}
		// A loaded machine may take minutes; a passing test goes on as
		// soon as every request is in.
		for deadline := time.Now().Add(5 * time.Minute); len(missing()) > 0; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("gave up waiting for the requests:\n%s\nVigil's log:\n%s", strings.Join(missing(), "\n"), srv.logText())
			}
		}
	}
	post(time.Time{})
	wait(false)
	post(time.Now().UTC().Truncate(time.Second))
	wait(true)

	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			c := amChannels[name]
			want, got := amRecv.requests(name), vigilRecv.requests(name)
			if c.golden != "" {
				want = goldenRequests(t, c, got)
			}
			if len(got) != len(want) {
				t.Errorf("Vigil sent %d requests, Alertmanager %d", len(got), len(want))
			}
			for i := range min(len(got), len(want)) {
				w, g := want[i], got[i]
				if mediaType(g.contentType) != mediaType(w.contentType) {
					t.Errorf("request %d: Vigil's content type %q, Alertmanager's %q", i, g.contentType, w.contentType)
				}
				wBody, gBody := w.body, g.body
				if c.query {
					var wq, gq string
					w.path, wq, _ = strings.Cut(w.path, "?")
					g.path, gq, _ = strings.Cut(g.path, "?")
					wBody, gBody = []byte(wq), []byte(gq)
				}
				if g.method != w.method || g.path != w.path {
					t.Errorf("request %d: Vigil %s %s, Alertmanager %s %s", i, g.method, g.path, w.method, w.path)
				}
				wb, gb := decodeBody(t, c, wBody), decodeBody(t, c, gBody)
				for pointer, why := range c.onlyVigil {
					if !removePointer(gb, pointer) {
						t.Errorf("request %d: only Vigil sends %s (%s), but it does not", i, pointer, why)
					}
				}
				for pointer, why := range c.ignored {
					if removePointer(wb, pointer) != removePointer(gb, pointer) {
						t.Errorf("request %d: %s is ignored (%s) but only one side has it", i, pointer, why)
					}
				}
				if !reflect.DeepEqual(wb, gb) {
					wf, gf := map[string]string{}, map[string]string{}
					flatten(wb, "", wf)
					flatten(gb, "", gf)
					var diffs []string
					for _, p := range slices.Sorted(func(yield func(string) bool) {
						for p := range wf {
							if !yield(p) {
								return
							}
						}
						for p := range gf {
							if _, ok := wf[p]; !ok && !yield(p) {
								return
							}
						}
					}) {
						if wf[p] != gf[p] {
							diffs = append(diffs, fmt.Sprintf("%s: Alertmanager %s, Vigil %s", p, orMissing(wf, p), orMissing(gf, p)))
						}
					}
					t.Errorf("request %d to %s: the bodies differ:\n%s", i, w.path, strings.Join(diffs, "\n"))
				}
			}
		})
	}
	srv.stop(t)
}

// mediaType is a content type without its parameters.
func mediaType(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.TrimSpace(mt)
}

// decodeBody decodes a request's body as JSON, or as form data for a
// channel that posts forms (each field's values a list of strings).
func decodeBody(t *testing.T, c amChannel, body []byte) any {
	t.Helper()
	if c.form || c.query {
		values, err := url.ParseQuery(string(body))
		if err != nil {
			t.Fatalf("a form body: %v\n%s", err, body)
		}
		out := map[string]any{}
		for k, vs := range values {
			list := make([]any, len(vs))
			for i, v := range vs {
				list[i] = v
			}
			out[k] = list
		}
		return out
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("a JSON body: %v\n%s", err, body)
	}
	return v
}

// removePointer removes the value the JSON pointer names from v (maps
// and lists from JSON), and says whether it was there.
func removePointer(v any, pointer string) bool {
	parts := strings.Split(strings.TrimPrefix(pointer, "/"), "/")
	for i, p := range parts {
		last := i == len(parts)-1
		switch x := v.(type) {
		case map[string]any:
			next, ok := x[p]
			if !ok {
				return false
			}
			if last {
				delete(x, p)
				return true
			}
			v = next
		case []any:
			var n int
			if _, err := fmt.Sscan(p, &n); err != nil || n < 0 || n >= len(x) {
				return false
			}
			if last {
				// A list keeps its length: the element becomes null.
				x[n] = nil
				return true
			}
			v = x[n]
		default:
			return false
		}
	}
	return false
}

// flatten adds the leaves of v (maps and lists from JSON) to out, as JSON
// pointers and their values in JSON.
func flatten(v any, pointer string, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			flatten(e, pointer+"/"+k, out)
		}
	case []any:
		for i, e := range x {
			flatten(e, fmt.Sprintf("%s/%d", pointer, i), out)
		}
	default:
		b, _ := json.Marshal(x)
		out[pointer] = string(b)
	}
}

// orMissing is m[key], or "(missing)".
func orMissing(m map[string]string, key string) string {
	if v, ok := m[key]; ok {
		return v
	}
	return "(missing)"
}

// goldenRequests reads the channel's golden file; when it is missing or
// its requests differ, the test's log shows Vigil's requests in its
// format, to check against Alertmanager's source.
func goldenRequests(t *testing.T, c amChannel, got []receivedRequest) []receivedRequest {
	t.Helper()
	path := filepath.Join("testdata", "alertmanager-channels", c.golden)
	var mine []goldenRequest
	for _, r := range got {
		body := json.RawMessage(r.body)
		if c.form {
			body, _ = json.Marshal(string(r.body))
		}
		mine = append(mine, goldenRequest{r.method, r.path, mediaType(r.contentType), body})
	}
	shown, _ := json.MarshalIndent(mine, "", "  ")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("Vigil's requests, to check against %s:\n%s", c.source, shown)
		}
	})
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the golden requests of %s: %v", c.source, err)
	}
	var golden []goldenRequest
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []receivedRequest
	for _, g := range golden {
		body := []byte(g.Body)
		if c.form {
			var s string
			if err := json.Unmarshal(g.Body, &s); err != nil {
				t.Fatalf("%s: a form body is a string: %v", path, err)
			}
			body = []byte(s)
		}
		out = append(out, receivedRequest{g.Method, g.Path, g.ContentType, body})
	}
	return out
}
