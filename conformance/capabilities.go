package conformance

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vigilmon/vigil/sdk"
)

// capabilityDocs say, for CHECKS.md, what the suite does for each
// capability a plugin claims.
var capabilityDocs = []struct{ name, does string }{
	{sdk.CapabilityDeliversToURL, "points every URL attribute (`url`, `*_url`), optional ones too, at the loopback receiver, and makes it answer 503 and 400 while the failure checks run; a notification that does not reach the receiver fails them"},
	{sdk.CapabilityDeliversSMTP, "starts a plain SMTP server on 127.0.0.1 (no STARTTLS, no SMTPS; AUTH PLAIN taking any credentials) and points the plugin at it: a string attribute `smarthost` is set to its `\"127.0.0.1:PORT\"`, or else a string `host` to `\"127.0.0.1\"` and a number (or string) `port` to its port, and bool attributes `require_tls` and `implicit_tls` to false; a string `from` and a string or string list `to` get addresses at `example.invalid` unless the config given sets them. The server reads every message and answers it 250, or 451 and 554 while the failure checks run; a notification that does not reach it fails them, and so does a plugin with neither `smarthost` nor `host` and `port`"},
	{sdk.CapabilityPollsURL, "points every URL attribute at the loopback receiver, which serves two groups, and drops one there; sets every duration attribute whose name ends in `interval` to `\"1s\"`; a plugin that never polls it fails `discovery.removed-group-empty`"},
	{sdk.CapabilityMultiTarget, "collects targets instead of the plugin itself: `Options.Targets`, or else its loopback HTTP receiver by URL (`http://127.0.0.1:PORT`) and by `127.0.0.1:PORT`, with the plugin's default module; every exporter check collects the first, `exporter.multi-target-independent` collects the first two alone and at once, and `exporter.multi-target-bad-target` collects a target with an empty address beside the first"},
	{sdk.CapabilityReadsFiles, "writes two file_sd JSON files, one group each, into a directory of its own, sets `files` to `[\"<dir>/*.json\"]` and every duration attribute whose name ends in `interval` to `\"1s\"`, and removes one file; a plugin without a string list attribute `files` fails `discovery.removed-group-empty`"},
}

// filesGroupNames are the files written for a discoverer that claims
// reads-files, one per group of receiverGroups; the last is removed.
var filesGroupNames = []string{"a.json", "b.json"}

// The addresses a notifier that claims delivers-smtp sends from and to,
// unless the config given sets them: example.invalid is a name that
// never resolves (RFC 2606), and the suite's server takes any address.
const (
	smtpFrom = "Vigil conformance <conformance@example.invalid>"
	smtpTo   = "receiver@example.invalid"
)

// capabilityDefaults sets in config, the sample config before the one
// given is laid over it, what the plugin's claimed capabilities need
// and the config given may set otherwise.
func (s *session) capabilityDefaults(config map[string]any) {
	if !s.info.HasCapability(sdk.CapabilityDeliversSMTP) {
		return
	}
	if a, ok := s.schema.Attribute("from"); ok && a.Type == sdk.TypeString {
		config["from"] = smtpFrom
	}
	if a, ok := s.schema.Attribute("to"); ok {
		switch a.Type {
		case sdk.TypeString:
			config["to"] = smtpTo
		case sdk.TypeStringList:
			config["to"] = []string{smtpTo}
		}
	}
}

// capabilityConfig sets in config, the sample config with the one given
// laid over it, the attributes the plugin's claimed capabilities drive:
// they point at the suite's receivers and files whatever the config
// given says, since the checks that need the capability drive those,
// and so that a config written for production delivers nothing there.
func (s *session) capabilityConfig(config map[string]any) error {
	s.receiverAttrs, s.smtpAttrs = nil, nil
	if s.info.HasCapability(sdk.CapabilityDeliversToURL) || s.info.HasCapability(sdk.CapabilityPollsURL) {
		for _, a := range s.schema {
			if isURLAttribute(a) {
				config[a.Name] = s.recv.URL + "/" + a.Name
				s.receiverAttrs = append(s.receiverAttrs, a.Name)
			}
		}
	}
	if s.info.HasCapability(sdk.CapabilityPollsURL) || s.info.HasCapability(sdk.CapabilityReadsFiles) {
		for _, a := range s.schema {
			if a.Type == sdk.TypeDuration && strings.HasSuffix(a.Name, "interval") {
				config[a.Name] = "1s"
			}
		}
	}
	if a, ok := s.schema.Attribute("files"); ok && a.Type == sdk.TypeStringList && s.info.HasCapability(sdk.CapabilityReadsFiles) {
		if s.filesDir == "" {
			if err := s.writeGroupFiles(); err != nil {
				return err
			}
		}
		config["files"] = []string{s.filesGlob}
	}
	if s.info.HasCapability(sdk.CapabilityDeliversSMTP) {
		if s.smtp == nil {
			r, err := newSMTPReceiver()
			if err != nil {
				return err
			}
			s.smtp = r
		}
		s.smtpAttrs = smtpServerConfig(s.schema, s.smtp.Addr, config)
	}
	return nil
}

// writeGroupFiles writes the files of reads-files into a directory of
// their own.
func (s *session) writeGroupFiles() error {
	dir, err := os.MkdirTemp("", "vigil-conformance-files")
	if err != nil {
		return fmt.Errorf("cannot make a directory for the files of reads-files: %w", err)
	}
	s.filesDir = dir
	for i, name := range filesGroupNames {
		b, _ := json.Marshal(receiverGroups[i : i+1])
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("cannot write a file for reads-files: %w", err)
		}
	}
	s.filesGlob = filepath.Join(dir, "*.json")
	return nil
}

// smtpServerConfig points the attributes of schema that name an SMTP
// server at addr, "127.0.0.1:port", in config: a string "smarthost", or
// else a string "host" with a number or string "port"; and sets the
// bool attributes "require_tls" and "implicit_tls" to false, as the
// server speaks plain SMTP. It returns the names of the server's
// attributes it set, none when the schema has neither.
func smtpServerConfig(schema sdk.Schema, addr string, config map[string]any) []string {
	host, port, _ := net.SplitHostPort(addr)
	var set []string
	if a, ok := schema.Attribute("smarthost"); ok && a.Type == sdk.TypeString {
		config[a.Name] = addr
		set = append(set, a.Name)
	} else if h, ok := schema.Attribute("host"); ok && h.Type == sdk.TypeString {
		p, _ := schema.Attribute("port")
		switch p.Type {
		case sdk.TypeNumber:
			n, _ := strconv.Atoi(port)
			config["host"], config["port"] = host, n
			set = append(set, "host", "port")
		case sdk.TypeString:
			config["host"], config["port"] = host, port
			set = append(set, "host", "port")
		}
	}
	if len(set) == 0 {
		return nil
	}
	for _, name := range []string{"require_tls", "implicit_tls"} {
		if a, ok := schema.Attribute(name); ok && a.Type == sdk.TypeBool {
			config[name] = false
		}
	}
	return set
}

// needReceiverAttr is nil when the sample config points a URL
// attribute at the receiver, for a plugin that claims capability, and a
// failure when it has no URL attribute.
func (s *session) needReceiverAttr(capability string) error {
	if len(s.receiverAttrs) > 0 {
		return nil
	}
	return fmt.Errorf("the plugin claims %s, yet has no URL attribute (a string attribute named url or ending in _url)", capability)
}

// needSMTPAttrs is nil when the sample config points the plugin at the
// SMTP receiver, for a plugin that claims delivers-smtp, and a failure
// when the schema has no attributes for it.
func (s *session) needSMTPAttrs() error {
	if len(s.smtpAttrs) > 0 {
		return nil
	}
	return fmt.Errorf("the plugin claims %s, yet has neither a string attribute smarthost nor a string host with a number or string port", sdk.CapabilityDeliversSMTP)
}

// answer is how the suite's receivers answer deliveries.
type answer int

// The answers: success, a temporary failure (HTTP 503, SMTP 451) and a
// permanent one (HTTP 400, SMTP 554).
const (
	answerOK answer = iota
	answerTemporary
	answerPermanent
)

// answerWith makes the suite's receivers answer deliveries with a.
func (s *session) answerWith(a answer) {
	status := map[answer]int{answerOK: http.StatusOK, answerTemporary: http.StatusServiceUnavailable, answerPermanent: http.StatusBadRequest}[a]
	s.recv.status.Store(int32(status))
	if s.smtp != nil {
		switch a {
		case answerOK:
			s.smtp.reply.Store(nil)
		case answerTemporary:
			s.smtp.reply.Store(smtpUnavailable)
		case answerPermanent:
			s.smtp.reply.Store(smtpRejected)
		}
	}
}
