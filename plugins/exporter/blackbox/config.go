package main

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"
	pconfig "github.com/prometheus/common/config"
	"go.yaml.in/yaml/v2"
)

// The modules are blackbox_exporter's: the same YAML, the same option
// names, the same defaults, so that a blackbox.yml works unchanged. The
// options this plugin does not implement are refused by name when a
// module sets them, rather than ignored.

// Config is a blackbox_exporter configuration file: its modules by name.
type Config struct {
	Modules map[string]Module `yaml:"modules"`
}

// Module is one module: a prober and its options.
type Module struct {
	Prober  string        `yaml:"prober,omitempty"`
	Timeout time.Duration `yaml:"timeout,omitempty"`
	HTTP    HTTPProbe     `yaml:"http,omitempty"`
	TCP     TCPProbe      `yaml:"tcp,omitempty"`
	ICMP    ICMPProbe     `yaml:"icmp,omitempty"`
	DNS     DNSProbe      `yaml:"dns,omitempty"`
	GRPC    GRPCProbe     `yaml:"grpc,omitempty"`
}

// HTTPProbe is the http prober's options.
type HTTPProbe struct {
	ValidStatusCodes             []int                    `yaml:"valid_status_codes,omitempty"`
	ValidHTTPVersions            []string                 `yaml:"valid_http_versions,omitempty"`
	IPProtocol                   string                   `yaml:"preferred_ip_protocol,omitempty"`
	IPProtocolFallback           bool                     `yaml:"ip_protocol_fallback,omitempty"`
	SkipResolvePhaseWithProxy    bool                     `yaml:"skip_resolve_phase_with_proxy,omitempty"`
	NoFollowRedirects            *bool                    `yaml:"no_follow_redirects,omitempty"`
	FailIfSSL                    bool                     `yaml:"fail_if_ssl,omitempty"`
	FailIfNotSSL                 bool                     `yaml:"fail_if_not_ssl,omitempty"`
	Method                       string                   `yaml:"method,omitempty"`
	Headers                      map[string]string        `yaml:"headers,omitempty"`
	FailIfBodyMatchesRegexp      []Regexp                 `yaml:"fail_if_body_matches_regexp,omitempty"`
	FailIfBodyNotMatchesRegexp   []Regexp                 `yaml:"fail_if_body_not_matches_regexp,omitempty"`
	FailIfHeaderMatchesRegexp    []HeaderMatch            `yaml:"fail_if_header_matches,omitempty"`
	FailIfHeaderNotMatchesRegexp []HeaderMatch            `yaml:"fail_if_header_not_matches,omitempty"`
	Body                         string                   `yaml:"body,omitempty"`
	BodyFile                     string                   `yaml:"body_file,omitempty"`
	HTTPClientConfig             pconfig.HTTPClientConfig `yaml:"http_client_config,inline"`
	BodySizeLimit                int64                    `yaml:"body_size_limit,omitempty"`
}

// GRPCProbe is the grpc prober's options.
type GRPCProbe struct {
	Service             string            `yaml:"service,omitempty"`
	TLS                 bool              `yaml:"tls,omitempty"`
	TLSConfig           pconfig.TLSConfig `yaml:"tls_config,omitempty"`
	IPProtocolFallback  bool              `yaml:"ip_protocol_fallback,omitempty"`
	PreferredIPProtocol string            `yaml:"preferred_ip_protocol,omitempty"`
	Metadata            map[string]string `yaml:"metadata,omitempty"`
}

// HeaderMatch fails an HTTP probe on a header that matches, or not.
type HeaderMatch struct {
	Header       string `yaml:"header,omitempty"`
	Regexp       Regexp `yaml:"regexp,omitempty"`
	AllowMissing bool   `yaml:"allow_missing,omitempty"`
}

// Label is a label of probe_expect_info, from a query_response match.
type Label struct {
	Name  string `yaml:"name,omitempty"`
	Value string `yaml:"value,omitempty"`
}

// QueryResponse is one step of a tcp probe's dialogue.
type QueryResponse struct {
	Expect      Regexp  `yaml:"expect,omitempty"`
	ExpectBytes string  `yaml:"expect_bytes,omitempty"`
	Labels      []Label `yaml:"labels,omitempty"`
	Send        string  `yaml:"send,omitempty"`
	StartTLS    bool    `yaml:"starttls,omitempty"`
}

// TCPProbe is the tcp prober's options.
type TCPProbe struct {
	IPProtocol         string            `yaml:"preferred_ip_protocol,omitempty"`
	IPProtocolFallback bool              `yaml:"ip_protocol_fallback,omitempty"`
	SourceIPAddress    string            `yaml:"source_ip_address,omitempty"`
	QueryResponse      []QueryResponse   `yaml:"query_response,omitempty"`
	TLS                bool              `yaml:"tls,omitempty"`
	TLSConfig          pconfig.TLSConfig `yaml:"tls_config,omitempty"`
}

// ICMPProbe is the icmp prober's options.
type ICMPProbe struct {
	IPProtocol         string `yaml:"preferred_ip_protocol,omitempty"`
	IPProtocolFallback bool   `yaml:"ip_protocol_fallback,omitempty"`
	SourceIPAddress    string `yaml:"source_ip_address,omitempty"`
	PayloadSize        int    `yaml:"payload_size,omitempty"`
	DontFragment       bool   `yaml:"dont_fragment,omitempty"`
	TTL                int    `yaml:"ttl,omitempty"`
}

// DNSProbe is the dns prober's options.
type DNSProbe struct {
	IPProtocol         string            `yaml:"preferred_ip_protocol,omitempty"`
	IPProtocolFallback bool              `yaml:"ip_protocol_fallback,omitempty"`
	DNSOverTLS         bool              `yaml:"dns_over_tls,omitempty"`
	TLSConfig          pconfig.TLSConfig `yaml:"tls_config,omitempty"`
	SourceIPAddress    string            `yaml:"source_ip_address,omitempty"`
	TransportProtocol  string            `yaml:"transport_protocol,omitempty"`
	QueryClass         string            `yaml:"query_class,omitempty"`
	QueryName          string            `yaml:"query_name,omitempty"`
	QueryType          string            `yaml:"query_type,omitempty"`
	Recursion          bool              `yaml:"recursion_desired,omitempty"`
	ValidRcodes        []string          `yaml:"valid_rcodes,omitempty"`
	ValidateAnswer     DNSRRValidator    `yaml:"validate_answer_rrs,omitempty"`
	ValidateAuthority  DNSRRValidator    `yaml:"validate_authority_rrs,omitempty"`
	ValidateAdditional DNSRRValidator    `yaml:"validate_additional_rrs,omitempty"`
}

// DNSRRValidator checks the records of one section of a DNS answer.
type DNSRRValidator struct {
	FailIfMatchesRegexp     []string `yaml:"fail_if_matches_regexp,omitempty"`
	FailIfAllMatchRegexp    []string `yaml:"fail_if_all_match_regexp,omitempty"`
	FailIfNotMatchesRegexp  []string `yaml:"fail_if_not_matches_regexp,omitempty"`
	FailIfNoneMatchesRegexp []string `yaml:"fail_if_none_matches_regexp,omitempty"`
}

// Regexp is a regular expression in the YAML, compiled as it is read.
type Regexp struct{ *regexp.Regexp }

// UnmarshalYAML implements yaml.Unmarshaler.
func (r *Regexp) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	re, err := regexp.Compile(s)
	if err != nil {
		return fmt.Errorf("bad regular expression %q: %w", s, err)
	}
	r.Regexp = re
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (r Regexp) MarshalYAML() (any, error) {
	if r.Regexp == nil {
		return nil, nil
	}
	return r.String(), nil
}

// UnmarshalYAML reads a module with blackbox_exporter's defaults, and
// checks its prober.
func (m *Module) UnmarshalYAML(unmarshal func(any) error) error {
	*m = Module{
		HTTP: HTTPProbe{IPProtocolFallback: true, HTTPClientConfig: pconfig.DefaultHTTPClientConfig},
		TCP:  TCPProbe{IPProtocolFallback: true},
		ICMP: ICMPProbe{IPProtocolFallback: true, TTL: defaultICMPTTL},
		DNS:  DNSProbe{IPProtocolFallback: true, Recursion: true},
		GRPC: GRPCProbe{IPProtocolFallback: true},
	}
	type plain Module
	if err := unmarshal((*plain)(m)); err != nil {
		return err
	}
	switch m.Prober {
	case "dns":
		if m.DNS.QueryName == "" {
			return errors.New("query name must be set for DNS module")
		}
		return nil
	case "http", "tcp", "icmp", "grpc":
		return nil
	case "unix", "websocket":
		return fmt.Errorf("prober %q is not supported by this plugin; use http, tcp, dns, icmp or grpc", m.Prober)
	}
	return fmt.Errorf("prober %q is not valid", m.Prober)
}

// UnmarshalYAML reads the http options with blackbox_exporter's defaults
// and checks.
func (s *HTTPProbe) UnmarshalYAML(unmarshal func(any) error) error {
	*s = HTTPProbe{IPProtocolFallback: true, HTTPClientConfig: pconfig.DefaultHTTPClientConfig}
	type plain HTTPProbe
	if err := unmarshal((*plain)(s)); err != nil {
		return err
	}
	if err := s.HTTPClientConfig.Validate(); err != nil {
		return err
	}
	if s.NoFollowRedirects != nil {
		s.HTTPClientConfig.FollowRedirects = !*s.NoFollowRedirects
	}
	if s.Body != "" && s.BodyFile != "" {
		return errors.New("setting body and body_file both are not allowed")
	}
	return nil
}

// UnmarshalYAML reads the grpc options with their defaults.
func (s *GRPCProbe) UnmarshalYAML(unmarshal func(any) error) error {
	*s = GRPCProbe{IPProtocolFallback: true}
	type plain GRPCProbe
	return unmarshal((*plain)(s))
}

// UnmarshalYAML reads the tcp options with their defaults.
func (s *TCPProbe) UnmarshalYAML(unmarshal func(any) error) error {
	*s = TCPProbe{IPProtocolFallback: true}
	type plain TCPProbe
	return unmarshal((*plain)(s))
}

// UnmarshalYAML reads the icmp options with their defaults and checks.
func (s *ICMPProbe) UnmarshalYAML(unmarshal func(any) error) error {
	*s = ICMPProbe{IPProtocolFallback: true, TTL: defaultICMPTTL}
	type plain ICMPProbe
	if err := unmarshal((*plain)(s)); err != nil {
		return err
	}
	if s.TTL < 0 || s.TTL > 255 {
		return fmt.Errorf("\"ttl\" must be between 0 and 255, not %d", s.TTL)
	}
	return nil
}

// UnmarshalYAML reads the dns options with their defaults and checks.
func (s *DNSProbe) UnmarshalYAML(unmarshal func(any) error) error {
	*s = DNSProbe{IPProtocolFallback: true, Recursion: true}
	type plain DNSProbe
	if err := unmarshal((*plain)(s)); err != nil {
		return err
	}
	if s.QueryName == "" {
		return errors.New("query name must be set for DNS module")
	}
	if _, ok := dns.StringToClass[s.QueryClass]; s.QueryClass != "" && !ok {
		return fmt.Errorf("query class '%s' is not valid", s.QueryClass)
	}
	if _, ok := dns.StringToType[s.QueryType]; s.QueryType != "" && !ok {
		return fmt.Errorf("query type '%s' is not valid", s.QueryType)
	}
	for _, rc := range s.ValidRcodes {
		if _, ok := dns.StringToRcode[rc]; !ok {
			return fmt.Errorf("rcode '%s' is not valid", rc)
		}
	}
	if s.TransportProtocol != "" && s.TransportProtocol != "udp" && s.TransportProtocol != "tcp" {
		return fmt.Errorf("transport protocol '%s' is not valid; use udp or tcp", s.TransportProtocol)
	}
	for _, v := range []DNSRRValidator{s.ValidateAnswer, s.ValidateAuthority, s.ValidateAdditional} {
		for _, re := range slicesConcat(v.FailIfMatchesRegexp, v.FailIfAllMatchRegexp, v.FailIfNotMatchesRegexp, v.FailIfNoneMatchesRegexp) {
			if _, err := regexp.Compile(re); err != nil {
				return fmt.Errorf("bad regular expression %q: %w", re, err)
			}
		}
	}
	return nil
}

func slicesConcat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// UnmarshalYAML reads a query_response step and checks it.
func (s *QueryResponse) UnmarshalYAML(unmarshal func(any) error) error {
	type plain QueryResponse
	if err := unmarshal((*plain)(s)); err != nil {
		return err
	}
	if s.Expect.Regexp != nil && s.ExpectBytes != "" {
		return errors.New("expect and expect_bytes are mutually exclusive")
	}
	return nil
}

// UnmarshalYAML reads a header matcher and checks it.
func (s *HeaderMatch) UnmarshalYAML(unmarshal func(any) error) error {
	type plain HeaderMatch
	if err := unmarshal((*plain)(s)); err != nil {
		return err
	}
	if s.Header == "" {
		return errors.New("header name must be set for HTTP header matchers")
	}
	if s.Regexp.Regexp == nil || s.Regexp.String() == "" {
		return errors.New("regexp must be set for HTTP header matchers")
	}
	return nil
}

// defaultICMPTTL is the TTL of an icmp probe's packet unless set.
const defaultICMPTTL = 64

// defaultModules are the modules of blackbox_exporter's example
// blackbox.yml that this plugin runs.
const defaultModules = `modules:
  http_2xx:
    prober: http
    http:
      preferred_ip_protocol: "ip4"
  http_post_2xx:
    prober: http
    http:
      method: POST
  tcp_connect:
    prober: tcp
  pop3s_banner:
    prober: tcp
    tcp:
      query_response:
      - expect: "^+OK"
      tls: true
      tls_config:
        insecure_skip_verify: false
  grpc:
    prober: grpc
    grpc:
      tls: true
      preferred_ip_protocol: "ip4"
  grpc_plain:
    prober: grpc
    grpc:
      tls: false
      service: "service1"
  ssh_banner:
    prober: tcp
    tcp:
      query_response:
      - expect: "^SSH-2.0-"
      - send: "SSH-2.0-blackbox-ssh-check"
  irc_banner:
    prober: tcp
    tcp:
      query_response:
      - send: "NICK prober"
      - send: "USER prober prober prober :prober"
      - expect: "PING :([^ ]+)"
        send: "PONG ${1}"
      - expect: "^:[^ ]+ 001"
  icmp:
    prober: icmp
  icmp_ttl5:
    prober: icmp
    timeout: 5s
    icmp:
      ttl: 5
`

// parseConfig reads a blackbox_exporter configuration, strictly: a key
// it does not know is an error naming it. what names the source in
// errors.
func parseConfig(what string, b []byte) (*Config, error) {
	c := &Config{}
	if err := yaml.UnmarshalStrict(b, c); err != nil {
		return nil, fmt.Errorf("cannot read the modules of %s: %w", what, err)
	}
	if len(c.Modules) == 0 {
		return nil, fmt.Errorf("%s has no modules", what)
	}
	for name, m := range c.Modules {
		if m.HTTP.BodyFile != "" {
			if _, err := os.Stat(m.HTTP.BodyFile); err != nil {
				return nil, fmt.Errorf("module %q of %s: cannot read body_file: %w", name, what, err)
			}
		}
	}
	return c, nil
}

// moduleNames lists the modules, sorted, for errors.
func (c *Config) moduleNames() string {
	names := make([]string, 0, len(c.Modules))
	for n := range c.Modules {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
