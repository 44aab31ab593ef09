package main

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	pconfig "github.com/prometheus/common/config"
)

// userAgent is sent unless the module sets one.
const userAgent = "Vigil-Blackbox/" + version

// roundTrip holds the times of one request of a probe (one per
// redirect).
type roundTrip struct {
	start, dnsDone, connectDone, gotConn, responseStart, end, tlsStart, tlsDone time.Time
	tls                                                                         bool
}

// tracer records the round trips of a probe.
type tracer struct {
	next  http.RoundTripper
	mu    sync.Mutex
	trips []*roundTrip
}

func (t *tracer) RoundTrip(req *http.Request) (*http.Response, error) {
	rt := &roundTrip{start: time.Now(), tls: req.URL.Scheme == "https"}
	t.mu.Lock()
	t.trips = append(t.trips, rt)
	t.mu.Unlock()
	set := func(f *time.Time) {
		t.mu.Lock()
		*f = time.Now()
		t.mu.Unlock()
	}
	trace := &httptrace.ClientTrace{
		DNSDone:              func(httptrace.DNSDoneInfo) { set(&rt.dnsDone) },
		ConnectDone:          func(string, string, error) { set(&rt.connectDone) },
		GotConn:              func(httptrace.GotConnInfo) { set(&rt.gotConn) },
		GotFirstResponseByte: func() { set(&rt.responseStart) },
		TLSHandshakeStart:    func() { set(&rt.tlsStart) },
		TLSHandshakeDone:     func(tls.ConnectionState, error) { set(&rt.tlsDone) },
	}
	return t.next.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
}

// probeHTTP requests target (a URL; http:// is added when it has no
// scheme) and checks the answer as the module says.
func probeHTTP(ctx context.Context, target string, m Module, reg *prometheus.Registry, log hclog.Logger) (success bool, _ error) {
	durations := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "probe_http_duration_seconds", Help: "Duration of http request by phase, summed over all redirects"}, []string{"phase"})
	contentLength := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_http_content_length", Help: "Length of http content response"})
	bodyLength := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_http_uncompressed_body_length", Help: "Length of uncompressed response body"})
	redirectsGauge := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_http_redirects", Help: "The number of redirects"})
	isSSL := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_http_ssl", Help: "Indicates if SSL was used for the final redirect"})
	statusCode := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_http_status_code", Help: "Response HTTP status code"})
	httpVersion := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_http_version", Help: "Returns the version of HTTP of the probe response"})
	failedRegex := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_failed_due_to_regex", Help: "Indicates if probe failed due to regex"})
	lastModified := prometheus.NewGauge(prometheus.GaugeOpts{Name: "probe_http_last_modified_timestamp_seconds", Help: "Returns the Last-Modified HTTP response header in unixtime"})
	reg.MustRegister(durations, contentLength, bodyLength, redirectsGauge, isSSL, statusCode, httpVersion, failedRegex)

	hc := m.HTTP
	if lower := strings.ToLower(target); !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		target = "http://" + target
	}
	u, err := url.Parse(target)
	if err != nil {
		log.Debug("cannot parse the target as a URL", "error", err)
		return false, nil
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}

	// The target's host is resolved once, in the preferred IP protocol,
	// and dialled at that address; other hosts (redirects) as usual.
	var ip *net.IPAddr
	proxySet := hc.HTTPClientConfig.ProxyURL.URL != nil || hc.HTTPClientConfig.ProxyFromEnvironment
	if !hc.SkipResolvePhaseWithProxy || !proxySet {
		var lookup float64
		ip, lookup, err = resolve(ctx, hc.IPProtocol, hc.IPProtocolFallback, host, reg, log)
		durations.WithLabelValues("resolve").Add(lookup)
		if err != nil {
			log.Debug("cannot resolve the target", "error", err)
			return false, nil
		}
	}
	dialer := &net.Dialer{}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if ip != nil && addr == net.JoinHostPort(host, port) {
			addr = net.JoinHostPort(ip.String(), port)
		}
		return dialer.DialContext(ctx, network, addr)
	}
	cc := hc.HTTPClientConfig
	if cc.TLSConfig.ServerName == "" {
		cc.TLSConfig.ServerName = host
		for k, v := range hc.Headers {
			if textproto.CanonicalMIMEHeaderKey(k) == "Host" {
				cc.TLSConfig.ServerName = v
			}
		}
	}
	client, err := pconfig.NewClientFromConfig(cc, "http_probe", pconfig.WithKeepAlivesDisabled(), pconfig.WithDialContextFunc(dial))
	if err != nil {
		log.Debug("cannot make the HTTP client", "error", err)
		return false, nil
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return false, err
	}
	client.Jar = jar
	tt := &tracer{next: client.Transport}
	client.Transport = tt
	redirects := 0
	client.CheckRedirect = func(_ *http.Request, via []*http.Request) error {
		redirects = len(via)
		if redirects > 10 || !hc.HTTPClientConfig.FollowRedirects {
			return errors.New("don't follow redirects")
		}
		return nil
	}

	method := hc.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if hc.Body != "" {
		body = strings.NewReader(hc.Body)
	}
	if hc.BodyFile != "" {
		f, err := os.Open(hc.BodyFile)
		if err != nil {
			log.Debug("cannot open body_file", "error", err)
			return false, nil
		}
		defer f.Close()
		body = f
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		log.Debug("cannot make the request", "error", err)
		return false, nil
	}
	for k, v := range hc.Headers {
		if textproto.CanonicalMIMEHeaderKey(k) == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	if _, ok := req.Header["User-Agent"]; !ok {
		req.Header.Set("User-Agent", userAgent)
	}
	for _, phase := range []string{"connect", "tls", "processing", "transfer"} {
		durations.WithLabelValues(phase)
	}

	resp, err := client.Do(req)
	var bodyBytes int64
	if resp == nil {
		log.Debug("request failed", "error", err)
		resp = &http.Response{}
	} else {
		requestErrored := err != nil
		defer resp.Body.Close()
		if len(hc.ValidStatusCodes) > 0 {
			success = slices.Contains(hc.ValidStatusCodes, resp.StatusCode)
		} else {
			success = 200 <= resp.StatusCode && resp.StatusCode < 300
		}
		if success && (len(hc.FailIfHeaderMatchesRegexp) > 0 || len(hc.FailIfHeaderNotMatchesRegexp) > 0) {
			success = headersMatch(resp.Header, hc, log)
			failedRegex.Set(b2f(!success))
		}
		var r io.Reader = resp.Body
		if hc.BodySizeLimit > 0 {
			r = http.MaxBytesReader(nil, resp.Body, hc.BodySizeLimit)
		}
		var data []byte
		if !requestErrored {
			data, err = io.ReadAll(r)
			if err != nil {
				log.Debug("cannot read the body", "error", err)
				success = false
			}
			bodyBytes = int64(len(data))
		}
		if success && (len(hc.FailIfBodyMatchesRegexp) > 0 || len(hc.FailIfBodyNotMatchesRegexp) > 0) {
			success = bodyMatches(data, hc, log)
			failedRegex.Set(b2f(!success))
		}
		tt.mu.Lock()
		if n := len(tt.trips); n > 0 {
			tt.trips[n-1].end = time.Now()
		}
		tt.mu.Unlock()
		if t, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
			reg.MustRegister(lastModified)
			lastModified.Set(float64(t.Unix()))
		}
		v, _ := strconv.ParseFloat(strings.TrimPrefix(resp.Proto, "HTTP/"), 64)
		httpVersion.Set(v)
		if len(hc.ValidHTTPVersions) > 0 && !slices.Contains(hc.ValidHTTPVersions, resp.Proto) {
			log.Debug("invalid HTTP version", "version", resp.Proto)
			success = false
		}
	}

	tt.mu.Lock()
	for i, rt := range tt.trips {
		if i != 0 && !rt.dnsDone.IsZero() {
			durations.WithLabelValues("resolve").Add(rt.dnsDone.Sub(rt.start).Seconds())
		}
		dnsDone := rt.dnsDone
		if dnsDone.IsZero() {
			dnsDone = rt.start
		}
		if rt.gotConn.IsZero() {
			continue
		}
		if rt.tls && !rt.tlsDone.IsZero() {
			durations.WithLabelValues("connect").Add(rt.connectDone.Sub(dnsDone).Seconds())
			durations.WithLabelValues("tls").Add(rt.tlsDone.Sub(rt.tlsStart).Seconds())
		} else {
			durations.WithLabelValues("connect").Add(rt.gotConn.Sub(dnsDone).Seconds())
		}
		if rt.responseStart.IsZero() {
			continue
		}
		durations.WithLabelValues("processing").Add(rt.responseStart.Sub(rt.gotConn).Seconds())
		if rt.end.IsZero() {
			continue
		}
		durations.WithLabelValues("transfer").Add(rt.end.Sub(rt.responseStart).Seconds())
	}
	tt.mu.Unlock()

	if resp.TLS != nil {
		isSSL.Set(1)
		newTLSGauges().report(reg, resp.TLS, true, true)
		if hc.FailIfSSL {
			success = false
		}
	} else if hc.FailIfNotSSL && success {
		success = false
	}
	statusCode.Set(float64(resp.StatusCode))
	contentLength.Set(float64(resp.ContentLength))
	bodyLength.Set(float64(bodyBytes))
	redirectsGauge.Set(float64(redirects))
	return success, nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// bodyMatches applies the body regular expressions.
func bodyMatches(body []byte, hc HTTPProbe, log hclog.Logger) bool {
	for _, re := range hc.FailIfBodyMatchesRegexp {
		if re.Match(body) {
			log.Debug("body matched fail_if_body_matches_regexp", "regexp", re.String())
			return false
		}
	}
	for _, re := range hc.FailIfBodyNotMatchesRegexp {
		if !re.Match(body) {
			log.Debug("body did not match fail_if_body_not_matches_regexp", "regexp", re.String())
			return false
		}
	}
	return true
}

// headersMatch applies the header matchers.
func headersMatch(h http.Header, hc HTTPProbe, log hclog.Logger) bool {
	for _, hm := range hc.FailIfHeaderMatchesRegexp {
		values := h.Values(hm.Header)
		if len(values) == 0 && !hm.AllowMissing {
			log.Debug("header missing", "header", hm.Header)
			return false
		}
		for _, v := range values {
			if hm.Regexp.MatchString(v) {
				return false
			}
		}
	}
	for _, hm := range hc.FailIfHeaderNotMatchesRegexp {
		values := h.Values(hm.Header)
		if len(values) == 0 {
			if !hm.AllowMissing {
				return false
			}
			continue
		}
		if !slices.ContainsFunc(values, hm.Regexp.MatchString) {
			return false
		}
	}
	return true
}
