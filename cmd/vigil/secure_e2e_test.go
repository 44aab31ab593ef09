package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vigilmon/vigil/internal/certgen"
	"github.com/vigilmon/vigil/internal/peers"
)

// httpsClient trusts the authority in caFile and shows cert, when set.
func httpsClient(t *testing.T, caFile string, cert *tls.Certificate) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", caFile)
	}
	tc := &tls.Config{RootCAs: pool}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
}

// call sends a request with the Authorization header auth (none when
// empty) and returns the status and the body; err is the transport's.
func call(c *http.Client, method, url, auth, contentType, body string) (int, string, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// basicAuth is the Authorization header of basic auth.
func basicAuth(user, pass string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pass)
	return r.Header.Get("Authorization")
}

// sha256Hex is the SHA-256 of s in hexadecimal, as a token block holds it.
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// freeAddr returns a loopback address no one listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// copyExample copies the files of examples/secure to a new folder, with
// the address the server scrapes itself at changed to addr.
func copyExample(t *testing.T, addr string) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir("../../examples/secure")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("../../examples/secure", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "vigil.hcl" {
			if !bytes.Contains(b, []byte(`"127.0.0.1:9443"`)) {
				t.Fatal("the example no longer scrapes itself at 127.0.0.1:9443")
			}
			b = bytes.ReplaceAll(b, []byte(`"127.0.0.1:9443"`), []byte(fmt.Sprintf("%q", addr)))
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// auditLines reads the audit log's JSON lines.
func auditLines(t *testing.T, file string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// hasAudit says whether lines hold one with every field of want.
func hasAudit(lines []map[string]any, want map[string]any) bool {
	for _, l := range lines {
		ok := true
		for k, v := range want {
			if fmt.Sprint(l[k]) != fmt.Sprint(v) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// TestSecureExample starts examples/secure/vigil.hcl as it is, but for
// its address and data folder: HTTPS only, the users' roles, the scrapes
// of itself as teams a and b with the token, the audit log, and promtool
// and amtool with the example's client configurations.
func TestSecureExample(t *testing.T) {
	addr := freeAddr(t)
	dir := copyExample(t, addr)
	data := filepath.Join(t.TempDir(), "data")
	srv := startServer(t, "--config", filepath.Join(dir, "vigil.hcl"), "--data", data, "--listen", addr)
	base := "https://" + srv.addr
	c := httpsClient(t, filepath.Join(dir, "ca.pem"), nil)
	alice, ops := basicAuth("alice", "alice-pass"), basicAuth("ops", "ops-pass")

	if code, body, err := call(http.DefaultClient, "GET", "http://"+srv.addr+"/-/healthy", "", "", ""); err == nil && code != http.StatusBadRequest {
		t.Errorf("plain HTTP answered %d: %s", code, body)
	}
	if code, _, err := call(c, "GET", base+"/api/v1/query?query=up", "", "", ""); err != nil || code != http.StatusUnauthorized {
		t.Errorf("a query without credentials: %d, %v", code, err)
	}
	if code, _, err := call(c, "GET", base+"/api/v1/query?query=up", basicAuth("alice", "bob-pass"), "", ""); err != nil || code != http.StatusUnauthorized {
		t.Errorf("alice with bob's password: %d, %v", code, err)
	}
	for team, user := range map[string]string{"a": alice, "b": basicAuth("bob", "bob-pass")} {
		waitFor(t, "team "+team+"'s scrape of the server to succeed", func() bool {
			code, body, err := call(c, "GET", base+"/api/v1/query?query="+url.QueryEscape(fmt.Sprintf("up{job=%q,team=%q}==1", team, team)), user, "", "")
			return err == nil && code == 200 && strings.Contains(body, `"team":"`+team+`"`)
		})
	}
	// Alice reads only team a's series, however she asks; ops reads both.
	for _, path := range []string{
		"/api/v1/query?query=up",
		"/api/v1/query?query=" + url.QueryEscape(`up{team=~".+"}`),
		"/api/v1/query?query=" + url.QueryEscape(`count by (team) ({__name__=~".+"})`),
		"/api/v1/query_range?step=15&start=" + fmt.Sprint(time.Now().Unix()-300) + "&end=" + fmt.Sprint(time.Now().Unix()) + "&query=" + url.QueryEscape(`up{team="b"}`),
		"/api/v1/series?match[]=" + url.QueryEscape(`{team="b"}`),
		"/api/v1/label/team/values",
		"/api/v1/label/team/values?match[]=" + url.QueryEscape(`{team=~".*"}`),
		"/federate?match[]=" + url.QueryEscape(`{__name__=~".+"}`),
		"/api/v1/targets",
		"/api/v1/query_exemplars?query=up",
	} {
		code, body, err := call(c, "GET", base+path, alice, "", "")
		if err != nil || code != 200 || !strings.Contains(body, `"a"`) && !strings.Contains(body, `team="a"`) && !strings.Contains(body, `"result":[]`) && !strings.Contains(body, `"data":[]`) {
			t.Errorf("alice's %s: %d %v\n%.500s", path, code, err, body)
		}
		if strings.Contains(body, `"b"`) || strings.Contains(body, `team="b"`) {
			t.Errorf("alice's %s shows team b:\n%.1000s", path, body)
		}
	}
	if _, body, _ := call(c, "GET", base+"/api/v1/label/team/values", ops, "", ""); !strings.Contains(body, `["a","b"]`) {
		t.Errorf("ops's teams: %s", body)
	}
	// The routes whose answers reach beyond her series refuse her.
	for _, path := range []string{"/metrics", "/api/v1/status/tsdb", "/api/v1/status/config", "/api/v2/status"} {
		if code, body, _ := call(c, "GET", base+path, alice, "", ""); code != http.StatusForbidden {
			t.Errorf("alice's %s: %d, want 403: %.300s", path, code, body)
		}
	}
	now := time.Now().UTC()
	silence := fmt.Sprintf(`{"matchers":[{"name":"alertname","value":"Test","isRegex":false}],"startsAt":%q,"endsAt":%q,"createdBy":"e2e","comment":"e2e"}`,
		now.Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))
	if code, body, _ := call(c, "POST", base+"/api/v2/silences", alice, "application/json", silence); code != http.StatusForbidden {
		t.Errorf("alice's silence: %d %s, want 403", code, body)
	}
	if code, body, _ := call(c, "GET", base+"/api/v1/status/config", alice, "", ""); code != http.StatusForbidden {
		t.Errorf("alice reading the configuration: %d %s, want 403", code, body)
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	withCert := httpsClient(t, filepath.Join(dir, "ca.pem"), &cert)
	if code, body, _ := call(withCert, "POST", base+"/api/v2/silences", ops, "application/json", silence); code != http.StatusOK {
		t.Errorf("ops's silence: %d %s", code, body)
	}
	if code, body, _ := call(c, "GET", base+"/api/v1/status/config", ops, "", ""); code != http.StatusOK || strings.Contains(body, "$2a$") {
		t.Errorf("ops reading the configuration: %d %s", code, body)
	}

	// vigil's own client commands take the same files.
	if code, out, errOut := runCLI("query", "--server", base, "--http.config.file", filepath.Join(dir, "promtool.yml"), `up`); code != exitOK || !strings.Contains(out, `team="a"`) || strings.Contains(out, `team="b"`) {
		t.Errorf("vigil query as alice: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := runCLI("query", "--server", base, "up"); code != exitFailure || !strings.Contains(errOut, "certificate") {
		t.Errorf("vigil query without the authority: exit %d: %s", code, errOut)
	}
	if code, _, errOut := runCLI("silence", "add", "--server", base, "--http.config.file", filepath.Join(dir, "promtool.yml"), "--comment", "x", "alertname=X"); code != exitFailure || !strings.Contains(errOut, "403") {
		t.Errorf("vigil silence add as alice: exit %d: %s", code, errOut)
	}
	if code, out, errOut := runCLI("silence", "add", "--server", base, "--http.config.file", filepath.Join(dir, "ops.yml"), "--comment", "x", "alertname=X"); code != exitOK || len(strings.TrimSpace(out)) != 36 {
		t.Errorf("vigil silence add as ops: exit %d: %s%s", code, out, errOut)
	}
	if code, _, errOut := runCLI("alerts", "list", "--server", base, "--http.config.file", filepath.Join(dir, "nope.yml")); code != exitFailure || !strings.Contains(errOut, "nope.yml") {
		t.Errorf("vigil alerts list with a missing --http.config.file: exit %d: %s", code, errOut)
	}

	promtool := peers.Path(t, peers.Promtool)
	out, err := exec.Command(promtool, "query", "instant", "--http.config.file="+filepath.Join(dir, "promtool.yml"), base, `up{team="a"}`).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `job="a"`) || !strings.Contains(string(out), "=> 1") {
		t.Errorf("promtool as alice: %v\n%s", err, out)
	}
	wrong := filepath.Join(dir, "wrong.yml")
	if err := os.WriteFile(wrong, []byte("basic_auth:\n  username: alice\n  password: bob-pass\ntls_config:\n  ca_file: ca.pem\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "query", "instant", "--http.config.file="+wrong, base, "up").CombinedOutput(); err == nil || !strings.Contains(string(out), "401") {
		t.Errorf("promtool with a wrong password: %v\n%s", err, out)
	}

	amtool := amtoolPath(t)
	// Debian's amtool (0.25) reads the paths of an --http.config.file
	// from the folder above the file's, unless the file is named without
	// a folder: it runs in the example's folder.
	amtoolAs := func(config string, args ...string) ([]byte, error) {
		cmd := exec.Command(amtool, append([]string{"--alertmanager.url=" + base, "--http.config.file=" + config}, args...)...)
		cmd.Dir = dir
		return cmd.CombinedOutput()
	}
	out, err = amtoolAs("ops.yml", "silence", "add", "alertname=FromAmtool", "--comment=e2e", "--author=ops")
	// The ID is the last line, after a warning that the versions differ.
	outLines := strings.Split(strings.TrimSpace(string(out)), "\n")
	id := strings.TrimSpace(outLines[len(outLines)-1])
	if err != nil || len(id) != 36 {
		t.Fatalf("amtool silence add as ops: %v\n%s", err, out)
	}
	if out, err := amtoolAs("ops.yml", "silence", "query", "-q"); err != nil || !strings.Contains(string(out), id) {
		t.Errorf("amtool silence query as ops: %v\n%s", err, out)
	}
	if out, err := amtoolAs("promtool.yml", "silence", "expire", id); err == nil {
		t.Errorf("amtool silence expire as alice succeeded:\n%s", out)
	}

	var lines []map[string]any
	for _, want := range []map[string]any{
		{"who": "user alice", "role": "viewer", "action": "POST /api/v2/silences", "status": 403, "outcome": "refused"},
		{"who": "user ops", "role": "admin", "action": "POST /api/v2/silences", "status": 200, "outcome": "done", "certificate": "ops"},
		{"who": "user ops", "action": "GET /api/v1/status/config", "outcome": "done"},
		{"who": "user alice", "action": "DELETE /api/v2/silence/{id}", "path": "/api/v2/silence/" + id, "outcome": "refused"},
	} {
		// A line is written once its request is answered.
		waitFor(t, fmt.Sprintf("an audit line with %v", want), func() bool {
			lines = auditLines(t, filepath.Join(data, "audit.log"))
			return hasAudit(lines, want)
		})
	}
	for _, l := range lines {
		if !strings.HasPrefix(fmt.Sprint(l["remote"]), "127.0.0.1:") || l["@timestamp"] == nil {
			t.Errorf("audit line without where or when: %v", l)
		}
	}
}

// TestMutualTLSTokensAndJWT runs a server and an agent that take only
// clients with a certificate of their authority, and then a token or a
// JWT signed by a key of a JWKS file: a client without a certificate,
// or with another authority's, cannot connect; a pushing token is
// audited by name with its certificate; a JWT's role claim is its role.
func TestMutualTLSTokensAndJWT(t *testing.T) {
	dir := t.TempDir()
	ca, err := certgen.NewCA("test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := certgen.NewCA("another CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	server, err := ca.Server("127.0.0.1", []string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.Client("batch-runner", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := other.Client("stranger", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	idp, err := certgen.NewCA("identity provider", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]*certgen.Pair{"ca": ca, "server": server} {
		if err := p.Write(dir, name); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "jwks.json"), idp.JWKS("key-1"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "push.token"), []byte("push-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	blocks := `
  tls {
    cert_file        = "server.pem"
    key_file         = "server-key.pem"
    client_auth_type = "RequireAndVerifyClientCert"
    client_ca_file   = "ca.pem"
  }
  auth {
    token "batch" {
      # The SHA-256 of push-token.
      sha256 = "` + sha256Hex("push-token") + `"
      role   = "writer"
    }
    jwt {
      jwks_file  = "jwks.json"
      issuer     = "https://idp.example.com/"
      audience   = "vigil"
      role_claim = "vigil_role"
      name_claim = "email"
    }
  }
`
	config, agentConfig := filepath.Join(dir, "vigil.hcl"), filepath.Join(dir, "agent.hcl")
	if err := os.WriteFile(config, []byte("server {\n  enable_push = true\n  enable_lifecycle = true\n"+blocks+"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(agentConfig, []byte("server {\n"+blocks+"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "--config", config, "--data", filepath.Join(t.TempDir(), "data"))
	base := "https://" + srv.addr
	pair := func(p *certgen.Pair) *tls.Certificate {
		c, err := tls.X509KeyPair(p.CertPEM, p.KeyPEM)
		if err != nil {
			t.Fatal(err)
		}
		return &c
	}
	caFile := filepath.Join(dir, "ca.pem")
	good := httpsClient(t, caFile, pair(client))
	jwtOf := func(role string, expires time.Time) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
			"iss": "https://idp.example.com/", "aud": "vigil", "sub": "u-1", "email": "carol@example.com",
			"vigil_role": role, "exp": expires.Unix(),
		})
		tok.Header["kid"] = "key-1"
		raw, err := tok.SignedString(idp.Key)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + raw
	}
	viewer := jwtOf("viewer", time.Now().Add(time.Hour))

	for name, c := range map[string]*http.Client{"no certificate": httpsClient(t, caFile, nil), "another authority's": httpsClient(t, caFile, pair(stranger))} {
		if code, _, err := call(c, "GET", base+"/-/healthy", viewer, "", ""); err == nil {
			t.Errorf("a client with %s certificate was answered %d", name, code)
		}
	}
	if code, body, err := call(good, "GET", base+"/-/healthy", viewer, "", ""); err != nil || code != 200 {
		t.Fatalf("the JWT of a viewer with a certificate: %d %s %v", code, body, err)
	}
	metrics := "# TYPE batch_done gauge\nbatch_done 1\n"
	if code, body, _ := call(good, "PUT", base+"/metrics/job/nightly", viewer, "text/plain", metrics); code != http.StatusForbidden {
		t.Errorf("a viewer's push: %d %s", code, body)
	}
	if code, body, _ := call(good, "PUT", base+"/metrics/job/nightly", "Bearer push-token", "text/plain", metrics); code != http.StatusOK {
		t.Errorf("the batch token's push: %d %s", code, body)
	}
	if code, body, _ := call(good, "GET", base+"/api/v1/query?query=up", "Bearer push-token", "", ""); code != http.StatusForbidden {
		t.Errorf("the batch token's query: %d %s, want 403", code, body)
	}
	waitFor(t, "the pushed group to be collected", func() bool {
		code, body, err := call(good, "GET", base+"/api/v1/query?query=batch_done", viewer, "", "")
		return err == nil && code == 200 && strings.Contains(body, `"job":"nightly"`)
	})
	for name, tc := range map[string]struct {
		auth string
		want int
	}{
		"expired JWT":      {jwtOf("operator", time.Now().Add(-time.Minute)), http.StatusUnauthorized},
		"viewer's JWT":     {viewer, http.StatusForbidden},
		"an operator's":    {jwtOf("operator", time.Now().Add(time.Hour)), http.StatusOK},
		"an unknown token": {"Bearer pish-token", http.StatusUnauthorized},
	} {
		if code, body, _ := call(good, "POST", base+"/-/reload", tc.auth, "", ""); code != tc.want {
			t.Errorf("reload with %s: %d %s, want %d", name, code, body, tc.want)
		}
	}
	// Without an audit block, the lines go to the server's log.
	for _, want := range []string{
		`vigil.audit: request: who="token batch" role=writer action="PUT /metrics/job/" path=/metrics/job/nightly certificate=batch-runner remote=127.0.0.1:`,
		`vigil.audit: request: who="jwt carol@example.com" role=viewer action="PUT /metrics/job/" path=/metrics/job/nightly certificate=batch-runner remote=127.0.0.1:`,
		`vigil.audit: request: who="jwt carol@example.com" role=operator action="POST /-/reload" path=/-/reload certificate=batch-runner remote=127.0.0.1:`,
		`vigil.audit: request: who=anonymous role=none action="POST /-/reload" path=/-/reload certificate=batch-runner remote=127.0.0.1:`,
		"status=200 outcome=done", "status=403 outcome=refused", "status=401 outcome=refused",
	} {
		// The log is read from the server's output as it comes.
		waitFor(t, "the server's log to hold "+want, func() bool { return strings.Contains(srv.logText(), want) })
	}
	if strings.Contains(srv.logText(), "push-token") {
		t.Error("the token is in the server's log")
	}

	// A renewed certificate is served at the next handshake.
	renewed, err := ca.Server("renewed", []string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := renewed.Write(dir, "server"); err != nil {
		t.Fatal(err)
	}
	resp, err := httpsClient(t, caFile, pair(client)).Get(base + "/-/healthy")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cn := resp.TLS.PeerCertificates[0].Subject.CommonName; cn != "renewed" {
		t.Errorf("after the certificate's files changed, the server shows %q", cn)
	}

	// The agent serves the same blocks.
	agent := startVigil(t, "agent", "--config", agentConfig, "--data", filepath.Join(t.TempDir(), "agent"))
	if _, _, err := call(httpsClient(t, caFile, nil), "GET", "https://"+agent.addr+"/-/healthy", viewer, "", ""); err == nil {
		t.Error("the agent answered a client without a certificate")
	}
	if code, _, err := call(good, "GET", "https://"+agent.addr+"/-/healthy", "", "", ""); err != nil || code != http.StatusUnauthorized {
		t.Errorf("the agent without credentials: %d, %v", code, err)
	}
	if code, body, err := call(good, "GET", "https://"+agent.addr+"/api/v1/targets", viewer, "", ""); err != nil || code != http.StatusOK {
		t.Errorf("the agent's targets for a viewer: %d %s %v", code, body, err)
	}
}
