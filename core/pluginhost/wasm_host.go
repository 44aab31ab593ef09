package pluginhost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/vigilmon/vigil/sdk/wasm"
)

// hostImports instantiates, in rt, the modules a plugin module imports
// from: WASI (without files, sockets, arguments or environment, which
// the module config does not give) and the host's own functions.
func hostImports(ctx context.Context, rt wazero.Runtime) error {
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return fmt.Errorf("instantiate WASI: %w", err)
	}
	i32, i64 := api.ValueTypeI32, api.ValueTypeI64
	b := rt.NewHostModuleBuilder(wasm.ImportModule)
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(hostLog), []api.ValueType{i32, i32, i32}, nil).
		WithParameterNames("level", "ptr", "len").
		Export(wasm.ImportLog)
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(hostNow), nil, []api.ValueType{i64}).
		Export(wasm.ImportNow)
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(hostDeadline), nil, []api.ValueType{i64}).
		Export(wasm.ImportDeadline)
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(hostHTTPRequest), []api.ValueType{i32, i32}, []api.ValueType{i64}).
		WithParameterNames("ptr", "len").
		Export(wasm.ImportHTTPRequest)
	if _, err := b.Instantiate(ctx); err != nil {
		return fmt.Errorf("instantiate the host functions: %w", err)
	}
	return nil
}

// hostLog implements log(level, ptr, len).
func hostLog(ctx context.Context, mod api.Module, stack []uint64) {
	s := stateOf(ctx)
	if s == nil {
		return
	}
	msg, ok := mod.Memory().Read(uint32(stack[1]), uint32(stack[2]))
	if !ok {
		s.plugin.logger.Warn("the module logged a message outside its memory")
		return
	}
	if !s.inst.budget.takeAll(len(msg), s.plugin.logger) {
		return
	}
	s.plugin.logGuest(hclog.Level(uint32(stack[0])), msg)
}

// logGuest re-logs a message of the log import. A message that is a
// JSON object with "@message", as hclog writes them, is logged with its
// other keys as fields.
func (p *WasmPlugin) logGuest(level hclog.Level, msg []byte) {
	if level < hclog.Trace || level > hclog.Error {
		level = hclog.Info
	}
	text := string(msg)
	var args []any
	if len(msg) > 0 && msg[0] == '{' {
		var fields map[string]any
		if json.Unmarshal(msg, &fields) == nil {
			if m, ok := fields["@message"].(string); ok {
				text = m
				keys := make([]string, 0, len(fields))
				for k := range fields {
					switch k {
					case "@message", "@level", "@timestamp", "@caller":
					default:
						keys = append(keys, k)
					}
				}
				slices.Sort(keys)
				for _, k := range keys {
					args = append(args, strings.TrimPrefix(k, "@"), fields[k])
				}
			}
		}
	}
	p.logger.Log(level, text, args...)
}

// hostNow implements now() -> unix nanoseconds.
func hostNow(_ context.Context, _ api.Module, stack []uint64) {
	stack[0] = uint64(time.Now().UnixNano())
}

// hostDeadline implements deadline() -> unix nanoseconds, 0 for none.
func hostDeadline(ctx context.Context, _ api.Module, stack []uint64) {
	stack[0] = 0
	if d, ok := ctx.Deadline(); ok {
		stack[0] = uint64(d.UnixNano())
	}
}

// hostHTTPRequest implements http_request(ptr, len) -> packed result.
func hostHTTPRequest(ctx context.Context, mod api.Module, stack []uint64) {
	var resp wasm.HTTPResponse
	raw, ok := mod.Memory().Read(uint32(stack[0]), uint32(stack[1]))
	switch s := stateOf(ctx); {
	case !ok:
		resp.Error = "the request is outside the module's memory"
	case s == nil || s.plugin.http == nil:
		resp.Error = "http_request is available during calls only"
	default:
		resp = s.plugin.http.do(ctx, raw)
	}
	out, err := json.Marshal(resp)
	if err != nil {
		out, _ = json.Marshal(wasm.HTTPResponse{Error: fmt.Sprintf("encode the response: %v", err)})
	}
	stack[0] = writeGuest(ctx, mod, out)
}

// writeGuest copies b into a buffer of the module's vigil_alloc and
// returns its packed address and length, or 0 when there is none.
func writeGuest(ctx context.Context, mod api.Module, b []byte) uint64 {
	alloc := mod.ExportedFunction(wasm.ExportAlloc)
	if alloc == nil {
		return 0
	}
	res, err := alloc.Call(ctx, uint64(len(b)))
	if err != nil || res[0] == 0 {
		return 0
	}
	ptr := uint32(res[0])
	if !mod.Memory().Write(ptr, b) {
		return 0
	}
	return wasm.Pack(ptr, uint32(len(b)))
}

// hostHTTP makes a plugin's HTTP requests.
type hostHTTP struct {
	plugin    *WasmPlugin
	transport *http.Transport
	client    *http.Client
}

func newHostHTTP(p *WasmPlugin) *hostHTTP {
	t := http.DefaultTransport.(*http.Transport).Clone()
	return &hostHTTP{
		plugin:    p,
		transport: t,
		client: &http.Client{
			Transport: t,
			// The module's client follows redirects itself, so that
			// allow_hosts checks every hop.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Timeout:       p.opts.CallTimeout,
		},
	}
}

func (h *hostHTTP) close() { h.transport.CloseIdleConnections() }

// do makes the request the module encoded in raw. Its errors never
// carry the URL's path or query, which may hold secrets.
func (h *hostHTTP) do(ctx context.Context, raw []byte) wasm.HTTPResponse {
	p := h.plugin
	var req wasm.HTTPRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return wasm.HTTPResponse{Error: fmt.Sprintf("cannot decode the request: %v", err)}
	}
	u, err := url.Parse(req.URL)
	if err != nil {
		return wasm.HTTPResponse{Error: "the request's URL is not valid"}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return wasm.HTTPResponse{Error: fmt.Sprintf("the request's URL has scheme %q: only http and https are allowed", u.Scheme)}
	}
	if !p.allowed(u) {
		p.logger.Warn("refused an HTTP request of the module: its host is not in allow_hosts", "host", u.Host)
		return wasm.HTTPResponse{Error: fmt.Sprintf("host %q is not in the plugin's allow_hosts", u.Host), Denied: true}
	}
	if req.TimeoutMillis > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(req.TimeoutMillis)*time.Millisecond)
		defer cancel()
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	hreq, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(req.Body))
	if err != nil {
		return wasm.HTTPResponse{Error: fmt.Sprintf("%s %s: %v", method, u.Host, stripURL(err))}
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			hreq.Header.Add(k, v)
		}
	}
	start := time.Now()
	resp, err := h.client.Do(hreq)
	if err != nil {
		p.logger.Debug("an HTTP request of the module failed", "method", method, "host", u.Host, "error", stripURL(err))
		return wasm.HTTPResponse{Error: fmt.Sprintf("%s %s: %v", method, u.Host, stripURL(err))}
	}
	defer resp.Body.Close()
	limit := p.opts.HTTPResponseLimitBytes
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return wasm.HTTPResponse{Error: fmt.Sprintf("%s %s: read the response: %v", method, u.Host, stripURL(err))}
	}
	if int64(len(body)) > limit {
		return wasm.HTTPResponse{Error: fmt.Sprintf("%s %s: the response body is larger than %d bytes", method, u.Host, limit)}
	}
	p.logger.Trace("an HTTP request of the module", "method", method, "host", u.Host, "status", resp.StatusCode, "took", time.Since(start))
	return wasm.HTTPResponse{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

// stripURL drops the URL from a request's error.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// allowedHost is an entry of allow_hosts.
type allowedHost struct {
	// host is the host name or IP address, lower case; for a wildcard,
	// the suffix its subdomains end in, from the dot on.
	host     string
	wildcard bool
	// port is "" for any.
	port string
}

// parseAllowHosts parses allow_hosts entries: a host name or IP address,
// optionally with a port, or "*." and a domain.
func parseAllowHosts(entries []string) ([]allowedHost, error) {
	var out []allowedHost
	for _, e := range entries {
		s := strings.ToLower(strings.TrimSpace(e))
		bad := func(why string) error {
			return fmt.Errorf("allow_hosts entry %q %s; write a host name or address, optionally with a port, such as \"hooks.example.com\" or \"10.0.0.1:8080\"", e, why)
		}
		if s == "" {
			return nil, bad("is empty")
		}
		if strings.ContainsAny(s, "/?#@ ") {
			return nil, bad("is not a host")
		}
		a := allowedHost{host: s}
		switch {
		case strings.HasPrefix(s, "["):
			if h, port, err := net.SplitHostPort(s); err == nil {
				a.host, a.port = h, port
			} else if strings.HasSuffix(s, "]") {
				a.host = s[1 : len(s)-1]
			} else {
				return nil, bad("is not a host")
			}
		case strings.Count(s, ":") == 1:
			h, port, err := net.SplitHostPort(s)
			if err != nil {
				return nil, bad("is not a host")
			}
			a.host, a.port = h, port
		}
		if a.port != "" {
			if n, err := strconv.Atoi(a.port); err != nil || n < 1 || n > 65535 {
				return nil, bad("has an invalid port")
			}
		}
		a.host = strings.TrimSuffix(a.host, ".")
		if rest, ok := strings.CutPrefix(a.host, "*."); ok {
			if rest == "" || strings.Contains(rest, "*") {
				return nil, bad("is not a host")
			}
			a.host, a.wildcard = "."+rest, true
		} else if a.host == "" || strings.Contains(a.host, "*") {
			return nil, bad("is not a host")
		}
		out = append(out, a)
	}
	return out, nil
}

// allowed says whether allow_hosts lets the module reach u.
func (p *WasmPlugin) allowed(u *url.URL) bool {
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	for _, a := range p.allow {
		if a.port != "" && a.port != port {
			continue
		}
		if a.wildcard {
			if strings.HasSuffix(host, a.host) && len(host) > len(a.host) {
				return true
			}
		} else if host == a.host {
			return true
		}
	}
	return false
}

// outputBudget bounds what an instance writes during one call: stdout,
// stderr and the log import together.
type outputBudget struct {
	mu     sync.Mutex
	limit  int
	used   int
	warned bool
}

func (b *outputBudget) reset() {
	b.mu.Lock()
	b.used, b.warned = 0, false
	b.mu.Unlock()
}

// take grants up to n bytes of the budget, and warns once when it is
// spent.
func (b *outputBudget) take(n int, logger hclog.Logger) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	grant := min(n, b.limit-b.used)
	b.used += grant
	if grant < n && !b.warned {
		b.warned = true
		logger.Warn("the module wrote more than its output limit in one call; the rest is dropped", "limit_bytes", b.limit)
	}
	return grant
}

// takeAll grants n bytes or none.
func (b *outputBudget) takeAll(n int, logger hclog.Logger) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n <= b.limit {
		b.used += n
		return true
	}
	b.used = b.limit
	if !b.warned {
		b.warned = true
		logger.Warn("the module wrote more than its output limit in one call; the rest is dropped", "limit_bytes", b.limit)
	}
	return false
}

// Bounds of guestOutput.
const (
	outputTailBytes = 4 << 10
	outputLineBytes = 16 << 10
)

// guestOutput re-logs what a module writes to stdout or stderr, line by
// line, within the instance's budget, and keeps the end of it for error
// messages.
type guestOutput struct {
	mu     sync.Mutex
	logger hclog.Logger
	stream string
	level  hclog.Level
	budget *outputBudget
	line   []byte
	tail   []byte
	// scan holds the end of a line being written, to find notable
	// lines beyond the budget; notable is the first one of the call.
	scan    []byte
	notable string
}

// notableLine says whether a line of output says why a module failed:
// Go's runtime starts them so.
func notableLine(l string) bool {
	return strings.HasPrefix(l, "fatal error:") || strings.HasPrefix(l, "panic:")
}

func newGuestOutput(logger hclog.Logger, stream string, budget *outputBudget, level hclog.Level) *guestOutput {
	return &guestOutput{logger: logger, stream: stream, level: level, budget: budget}
}

// Write implements io.Writer.
func (o *guestOutput) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tail = append(o.tail, b...)
	if len(o.tail) > outputTailBytes {
		o.tail = append([]byte(nil), o.tail[len(o.tail)-outputTailBytes:]...)
	}
	if o.notable == "" {
		o.scan = append(o.scan, b...)
		for {
			i := bytes.IndexByte(o.scan, '\n')
			if i < 0 {
				break
			}
			if l := strings.TrimSpace(string(o.scan[:i])); notableLine(l) {
				o.notable = l
				o.scan = nil
				break
			}
			o.scan = o.scan[i+1:]
		}
		if len(o.scan) > outputTailBytes {
			o.scan = nil
		}
	}
	n := o.budget.take(len(b), o.logger)
	o.line = append(o.line, b[:n]...)
	for {
		i := bytes.IndexByte(o.line, '\n')
		if i < 0 {
			break
		}
		o.emit(o.line[:i])
		o.line = o.line[i+1:]
	}
	if len(o.line) >= outputLineBytes {
		o.emit(o.line)
		o.line = nil
	}
	return len(b), nil
}

func (o *guestOutput) emit(line []byte) {
	line = bytes.TrimRight(line, "\r")
	if len(line) > 0 {
		o.logger.Log(o.level, string(line), "stream", o.stream)
	}
}

// flush logs a last line without its newline.
func (o *guestOutput) flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.emit(o.line)
	o.line = nil
}

// reset forgets the output of the last call.
func (o *guestOutput) reset() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.line, o.tail, o.scan, o.notable = nil, nil, nil, ""
}

// summary picks the line of the call's output that best says what went
// wrong: its first fatal error or panic, else its last line.
func (o *guestOutput) summary() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	pick := o.notable
	if pick == "" {
		if l := strings.TrimSpace(string(o.scan)); notableLine(l) {
			pick = l
		}
	}
	if pick == "" {
		lines := strings.Split(strings.TrimSpace(string(o.tail)), "\n")
		pick = strings.TrimSpace(lines[len(lines)-1])
	}
	if len(pick) > 300 {
		pick = pick[:300] + "…"
	}
	return pick
}
