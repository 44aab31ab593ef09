package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/goleak"

	"github.com/vigilmon/vigil/sdk"
)

// Check is one check of the suite.
type Check struct {
	// ID names the check, "<area>.<what>", e.g. "exporter.counter-monotonic".
	ID string
	// Level says whether a failure fails the plugin (MUST) or is only
	// reported (SHOULD).
	Level Level
	// Kind is the kind of plugin the check is for; zero for every kind.
	Kind sdk.Kind
	// Reason is one line saying what the check asks and why.
	Reason string
	// Capabilities are the capabilities (sdk.Capability* names) of which
	// a plugin must claim one for the check to run; none for a check
	// that needs none. The check is skipped for a plugin that claims
	// none of them.
	Capabilities []string

	run func(*session) error
}

// Checks returns every check of the suite, in the order they run.
func Checks() []Check { return slices.Clone(allChecks) }

// grace is how long past a deadline or a cancellation a call may take to
// return.
const grace = time.Second

var allChecks []Check

func init() {
	allChecks = slices.Concat(commonChecks, exporterChecks, discoveryChecks, notifierChecks, callChecks, lifecycleChecks)
}

var commonChecks = []Check{
	{ID: "plugin.handshake", Level: Must, Reason: "The plugin starts and completes the handshake at protocol version 1 within the start timeout (a program: go-plugin's handshake; a module: it loads and speaks Wasm ABI version 1 or 2, and version 2 if it is a discoverer).", run: checkHandshake},
	{ID: "plugin.protocol-version", Level: Must, Reason: "Info reports protocol version 1 and a known kind, the one asked for; the host refuses any other.", run: checkProtocolVersion},
	{ID: "plugin.info", Level: Must, Reason: "Info has a name of lowercase letters, digits, '-' and '_', and a semantic version: the host and the registry key plugins by them.", run: checkInfo},
	{ID: "plugin.capabilities", Level: Should, Reason: "Every capability Info claims is one the suite knows (sdk.Capability*), once, and for the plugin's kind: the suite cannot check a claim it does not know.", run: checkCapabilities},
	{ID: "plugin.info-description", Level: Should, Reason: "Info has a description of one line, shown in listings.", run: checkInfoDescription},
	{ID: "plugin.schema", Level: Must, Reason: "Schema attributes have unique identifier names, known types and defaults of their type; a required attribute has no default.", run: checkSchema},
	{ID: "plugin.schema-descriptions", Level: Should, Reason: "Every schema attribute has a description, shown in docs and diagnostics.", run: checkSchemaDescriptions},
	{ID: "config.sample", Level: Must, Reason: "Configure with the sample config (Options.ConfigJSON over one built from the schema) succeeds.", run: checkConfigSample},
	{ID: "config.wrong-type", Level: Must, Reason: "Configure with a value of the wrong type for an attribute fails with an error naming the attribute, and the plugin keeps serving.", run: checkConfigWrongType},
	{ID: "config.missing-required", Level: Must, Reason: "Configure without a required attribute fails with an error naming the attribute, and the plugin keeps serving.", run: checkConfigMissingRequired},
}

var callChecks = []Check{
	{ID: "call.deadline", Level: Must, Reason: "A call given a short deadline returns by it (plus 1s), and the plugin then serves the next call.", run: checkDeadline},
	{ID: "call.cancel", Level: Must, Reason: "A call that is cancelled returns within 1s, and the plugin then serves the next call.", run: checkCancel},
	{ID: "call.concurrent", Level: Must, Reason: "Eight calls at once all succeed: the host calls a plugin concurrently.", run: checkConcurrent},
}

var lifecycleChecks = []Check{
	{ID: "plugin.stdout-clean", Level: Must, Reason: "Nothing is written to stdout after the handshake: for a program stdout carries the handshake; plugins log to stderr.", run: checkStdout},
	{ID: "plugin.sensitive-redacted", Level: Must, Reason: "The values of sensitive attributes appear in no error and no log line, even when a call fails.", run: checkSensitive},
	{ID: "lifecycle.restart", Level: Must, Reason: "Three rounds of start, configure, call and stop leave no plugin process and no goroutine of the host behind.", run: checkRestart},
	{ID: "lifecycle.shutdown", Level: Must, Reason: "The plugin stops within the shutdown timeout when asked, without having to be killed.", run: checkShutdown},
}

var (
	pluginNameRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	semverRE        = regexp.MustCompile(`^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
	attributeNameRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
)

func checkHandshake(s *session) error {
	c, err := s.start()
	if err != nil {
		s.startErr = err
		return fmt.Errorf("cannot start the plugin: %w", err)
	}
	s.main = c
	ctx, cancel := s.callCtx()
	defer cancel()
	s.info, s.kind, s.infoErr = c.Info(ctx)
	if s.infoErr != nil {
		s.kind = 0
	}
	s.schema, s.schemaErr = c.Schema(ctx)
	user := s.opts.ConfigJSON
	if s.schemaErr == nil && s.opts.DecodeConfig != nil {
		kind := s.opts.Kind
		if kind == 0 {
			kind = s.kind
		}
		user, s.decodeErr = s.opts.DecodeConfig(s.info, kind, s.schema)
	}
	if s.schemaErr == nil {
		base, _ := SampleConfig(s.schema, s.recv.URL, nil)
		s.capabilityDefaults(base)
		s.sample = maps.Clone(base)
		if err := overlay(s.sample, user); err != nil {
			s.decodeErr = err
			s.sample = base
		}
		if err := s.capabilityConfig(s.sample); err != nil {
			return err
		}
		s.sampleJSON, _ = json.Marshal(s.sample)
	}
	return nil
}

func checkCapabilities(s *session) error {
	if err := s.needStarted(); err != nil {
		return err
	}
	if s.infoErr != nil {
		return skipf("Info failed (see plugin.protocol-version)")
	}
	if len(s.info.Capabilities) == 0 {
		return skipf("the plugin claims no capabilities")
	}
	var errs []error
	seen := map[string]bool{}
	for _, c := range s.info.Capabilities {
		kind, known := sdk.CapabilityKind(c)
		switch {
		case seen[c]:
			errs = append(errs, fmt.Errorf("capability %q is claimed twice", c))
		case !known:
			errs = append(errs, fmt.Errorf("capability %q is not one the suite knows (%s)", c, strings.Join(sdk.KnownCapabilities(), ", ")))
		case kind != s.kind:
			errs = append(errs, fmt.Errorf("capability %q is for %s plugin, the plugin is %s plugin", c, article(kind), article(s.kind)))
		}
		seen[c] = true
	}
	return errors.Join(errs...)
}

func checkProtocolVersion(s *session) error {
	if err := s.needStarted(); err != nil {
		return err
	}
	if s.infoErr != nil {
		return s.infoErr
	}
	if s.opts.Kind != 0 && s.kind != s.opts.Kind {
		return fmt.Errorf("the plugin is %s plugin, the suite was asked to check %s plugin", article(s.kind), article(s.opts.Kind))
	}
	return nil
}

func checkInfo(s *session) error {
	if err := s.needStarted(); err != nil {
		return err
	}
	if s.infoErr != nil {
		return skipf("Info failed (see plugin.protocol-version)")
	}
	var errs []error
	if !pluginNameRE.MatchString(s.info.Name) {
		errs = append(errs, fmt.Errorf("name %q is not lowercase letters, digits, '-' and '_'", s.info.Name))
	}
	if !semverRE.MatchString(s.info.Version) {
		errs = append(errs, fmt.Errorf("version %q is not a semantic version such as \"1.2.0\"", s.info.Version))
	}
	return errors.Join(errs...)
}

func checkInfoDescription(s *session) error {
	if err := s.needStarted(); err != nil {
		return err
	}
	if s.infoErr != nil {
		return skipf("Info failed (see plugin.protocol-version)")
	}
	switch d := s.info.Description; {
	case strings.TrimSpace(d) == "":
		return errors.New("the description is empty")
	case strings.Contains(strings.TrimSpace(d), "\n"):
		return errors.New("the description has more than one line")
	}
	return nil
}

func checkSchema(s *session) error {
	if err := s.needStarted(); err != nil {
		return err
	}
	if s.schemaErr != nil {
		return s.schemaErr
	}
	var errs []error
	seen := map[string]bool{}
	for _, a := range s.schema {
		if !attributeNameRE.MatchString(a.Name) {
			errs = append(errs, fmt.Errorf("attribute name %q is not an identifier of lowercase letters, digits and '_'", a.Name))
		}
		if seen[a.Name] {
			errs = append(errs, fmt.Errorf("attribute %q is declared twice", a.Name))
		}
		seen[a.Name] = true
		if a.Type < sdk.TypeString || a.Type > sdk.TypeStringMap {
			errs = append(errs, fmt.Errorf("attribute %q has unknown type %d", a.Name, int(a.Type)))
			continue
		}
		if a.Default != nil {
			if a.Required {
				errs = append(errs, fmt.Errorf("attribute %q is required and has a default, which is never used", a.Name))
			}
			if _, err := (sdk.Schema{{Name: a.Name, Type: a.Type}}).Values(map[string]any{a.Name: a.Default}); err != nil {
				errs = append(errs, fmt.Errorf("default of attribute %q: %w", a.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}

func checkSchemaDescriptions(s *session) error {
	if err := s.needSchema(); err != nil {
		return err
	}
	var missing []string
	for _, a := range s.schema {
		if strings.TrimSpace(a.Description) == "" {
			missing = append(missing, a.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("attributes without a description: %s", strings.Join(missing, ", "))
	}
	return nil
}

func checkConfigSample(s *session) error {
	if err := s.needSchema(); err != nil {
		return err
	}
	if s.decodeErr != nil {
		return fmt.Errorf("cannot use the config given: %w", s.decodeErr)
	}
	if err := s.configure(s.main); err != nil {
		return fmt.Errorf("Configure with %s failed: %w; give a config that works (Options.ConfigJSON, or vigil conformance run --config)", s.redactedSample(), err)
	}
	s.configured = true
	return nil
}

// redactedSample is the sample config as JSON, with sensitive values
// hidden.
func (s *session) redactedSample() string {
	shown := map[string]any{}
	for k, v := range s.sample {
		if a, _ := s.schema.Attribute(k); a.Sensitive {
			v = "<secret>"
		}
		shown[k] = v
	}
	b, _ := json.Marshal(shown)
	return string(b)
}

// namesAttribute says whether err is about the attribute name.
func namesAttribute(err error, name string) bool {
	var ae *sdk.AttributeError
	if errors.As(err, &ae) {
		return ae.Attribute == name
	}
	return strings.Contains(err.Error(), name)
}

// badConfigs configures the main plugin with each config of bad, which
// it must refuse naming the attribute, then restores the sample config.
func (s *session) badConfigs(bad map[string][]byte, what string) error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(bad)) {
		ctx, cancel := s.callCtx()
		err := s.main.Configure(ctx, bad[name])
		cancel()
		switch {
		case !s.main.alive():
			return fmt.Errorf("the plugin process exited after a config with %s %q: %v", what, name, err)
		case err == nil:
			errs = append(errs, fmt.Errorf("a config with %s %q was accepted", what, name))
		case !namesAttribute(err, name):
			errs = append(errs, fmt.Errorf("the error for %s %q does not name it: %v", what, name, err))
		}
	}
	ctx, cancel := s.callCtx()
	defer cancel()
	if _, _, err := s.main.Info(ctx); err != nil {
		errs = append(errs, fmt.Errorf("the plugin does not answer after bad configs: %w", err))
	}
	if s.configured {
		if err := s.configure(s.main); err != nil {
			errs = append(errs, fmt.Errorf("the sample config is refused after bad configs: %w", err))
		}
	}
	return errors.Join(errs...)
}

func checkConfigWrongType(s *session) error {
	if err := s.needSchema(); err != nil {
		return err
	}
	if len(s.schema) == 0 {
		return skipf("the plugin has no config attributes")
	}
	bad := map[string][]byte{}
	for _, a := range s.schema {
		bad[a.Name] = withValue(s.sample, a.Name, wrongValue(a.Type))
	}
	return s.badConfigs(bad, "a wrong type for attribute")
}

func checkConfigMissingRequired(s *session) error {
	if err := s.needSchema(); err != nil {
		return err
	}
	bad := map[string][]byte{}
	for _, a := range s.schema {
		if a.Required {
			bad[a.Name] = withValue(s.sample, a.Name, nil)
		}
	}
	if len(bad) == 0 {
		return skipf("the plugin has no required attributes")
	}
	return s.badConfigs(bad, "no required attribute")
}

// call makes the call of the plugin's kind under ctx: a collection, a
// discovery until ctx ends, or a firing notification. A collection that
// reports its target down is a call that worked.
func (s *session) call(ctx context.Context, c *plugConn) error {
	switch s.kind {
	case sdk.KindExporter:
		_, err := s.collect(ctx, c)
		return collectionFailed(err)
	case sdk.KindDiscoverer:
		return c.Discover(ctx, func([]sdk.TargetGroup) error { return nil })
	case sdk.KindNotifier:
		return c.Notify(ctx, notification("firing"))
	}
	return fmt.Errorf("unknown kind %d", s.kind)
}

// probe checks that c serves a call of its kind within the bounds: a
// collection, a first discovery update, a notification.
func (s *session) probe(c *plugConn) error {
	if s.kind == sdk.KindDiscoverer {
		w := s.watch(c)
		defer w.stop()
		_, err := w.next(s.opts.DiscoveryTimeout)
		return err
	}
	ctx, cancel := s.callCtx()
	defer cancel()
	return s.call(ctx, c)
}

func (s *session) needCalls() error {
	if err := s.needConfigured(); err != nil {
		return err
	}
	if s.kind == 0 {
		return skipf("the plugin's kind is unknown (see plugin.protocol-version)")
	}
	return nil
}

func checkDeadline(s *session) error {
	if err := s.needCalls(); err != nil {
		return err
	}
	const d = 300 * time.Millisecond
	ctx, cancel := context.WithTimeout(s.ctx, d)
	defer cancel()
	start := time.Now()
	s.call(ctx, s.main)
	if took := time.Since(start); took > d+grace {
		return fmt.Errorf("a call with a deadline of %s returned after %s", d, took.Round(time.Millisecond))
	}
	if err := s.probe(s.main); err != nil {
		return fmt.Errorf("the call after one that met its deadline failed: %w", err)
	}
	return nil
}

func checkCancel(s *session) error {
	if err := s.needCalls(); err != nil {
		return err
	}
	const after = 200 * time.Millisecond
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	t := time.AfterFunc(after, cancel)
	defer t.Stop()
	start := time.Now()
	s.call(ctx, s.main)
	if took := time.Since(start); took > after+grace {
		return fmt.Errorf("a call cancelled after %s returned after %s", after, took.Round(time.Millisecond))
	}
	if err := s.probe(s.main); err != nil {
		return fmt.Errorf("the call after a cancelled one failed: %w", err)
	}
	return nil
}

func checkConcurrent(s *session) error {
	if err := s.needCalls(); err != nil {
		return err
	}
	const n = 8
	errs := make([]error, 2*n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[2*i] = s.probe(s.main) })
		wg.Go(func() {
			ctx, cancel := s.callCtx()
			defer cancel()
			_, _, errs[2*i+1] = s.main.Info(ctx)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func checkStdout(s *session) error {
	if err := s.needStarted(); err != nil {
		return err
	}
	switch {
	case s.target.Plugin != nil:
		return skipf("an in-process plugin has no stdout of its own")
	case s.main.stdout != nil:
		time.Sleep(50 * time.Millisecond) // go-plugin copies stdout on its own goroutine.
		if out := s.main.stdout.String(); out != "" {
			return fmt.Errorf("the plugin wrote %d bytes to stdout after the handshake: %q", len(out), clip(out, 200))
		}
	default:
		for line := range strings.SplitSeq(s.main.logs.String(), "\n") {
			if strings.Contains(line, `"stream":"stdout"`) {
				return fmt.Errorf("the module wrote to stdout: %s", clip(line, 200))
			}
		}
	}
	return nil
}

// secretValue is a value of a that holds secret, for a string, list or
// map attribute; nil for other types, which hold no secret.
func (s *session) secretValue(a sdk.Attribute, secret string) any {
	switch {
	case isURLAttribute(a):
		return s.recv.URL + "/" + secret
	case a.Type == sdk.TypeString:
		return secret
	case a.Type == sdk.TypeStringList:
		return []string{secret}
	case a.Type == sdk.TypeStringMap:
		return map[string]string{"conformance": secret}
	}
	return nil
}

func checkSensitive(s *session) error {
	if err := s.needSchema(); err != nil {
		return err
	}
	secret := "conformance-secret-" + randomHex(8)
	config := map[string]any{}
	for k, v := range s.sample {
		config[k] = v
	}
	var sensitive []string
	for _, a := range s.schema {
		if v := s.secretValue(a, secret); a.Sensitive && v != nil {
			config[a.Name] = v
			sensitive = append(sensitive, a.Name)
		}
	}
	if len(sensitive) == 0 {
		return skipf("the plugin has no sensitive string, list or map attributes")
	}
	c, err := s.start()
	if err != nil {
		return fmt.Errorf("cannot start the plugin: %w", err)
	}
	var seen []string
	look := func(what string, err error) {
		if err != nil && strings.Contains(err.Error(), secret) {
			seen = append(seen, fmt.Sprintf("%s: %s", what, clip(err.Error(), 300)))
		}
	}
	configure := func(b []byte) error {
		ctx, cancel := s.callCtx()
		defer cancel()
		return c.Configure(ctx, b)
	}
	// A config refused for another attribute, then one with the secrets.
	for _, a := range s.schema {
		if !a.Sensitive {
			look(fmt.Sprintf("Configure with a wrong %q", a.Name), configure(withValue(config, a.Name, wrongValue(a.Type))))
			break
		}
	}
	secretJSON, _ := json.Marshal(config)
	err = configure(secretJSON)
	look("Configure", err)
	if err == nil && s.kind != 0 {
		// A call that fails, where the receivers are used.
		s.answerWith(answerPermanent)
		ctx, cancel := context.WithTimeout(s.ctx, min(s.opts.CallTimeout, 3*time.Second))
		look("a failing call", s.call(ctx, c))
		cancel()
		s.answerWith(answerOK)
	}
	c.close()
	time.Sleep(100 * time.Millisecond) // the plugin's last log lines.
	for line := range strings.SplitSeq(c.logs.String(), "\n") {
		if strings.Contains(line, secret) {
			seen = append(seen, "log: "+clip(line, 300))
		}
	}
	if len(seen) > 0 {
		return fmt.Errorf("the value of sensitive attribute %s appeared in:\n%s", strings.Join(sensitive, ", "), strings.Join(seen, "\n"))
	}
	return nil
}

func checkRestart(s *session) error {
	if err := s.needStarted(); err != nil {
		return err
	}
	ignore := []goleak.Option{
		goleak.IgnoreCurrent(),
		// Idle keep-alive connections of HTTP clients and servers.
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreAnyFunction("net/http.(*conn).serve"),
	}
	for round := 1; round <= 3; round++ {
		c, err := s.start()
		if err != nil {
			return fmt.Errorf("round %d: cannot start the plugin: %w", round, err)
		}
		if s.configured && s.kind != 0 {
			if err := s.configure(c); err != nil {
				return fmt.Errorf("round %d: Configure: %w", round, err)
			}
			if err := s.probe(c); err != nil {
				return fmt.Errorf("round %d: call: %w", round, err)
			}
		}
		c.close()
		if !waitFor(s.opts.ShutdownTimeout, c.processGone) {
			return fmt.Errorf("round %d: plugin process %d still runs after it was stopped", round, c.pid)
		}
	}
	if err := goleak.Find(ignore...); err != nil {
		return fmt.Errorf("goroutines were left behind: %w", err)
	}
	return nil
}

// killedMessage is what go-plugin logs when a plugin did not exit when
// asked and is killed.
const killedMessage = "plugin failed to exit gracefully"

func checkShutdown(s *session) error {
	if err := s.needStarted(); err != nil {
		return err
	}
	s.main.close()
	var errs []error
	if s.main.closeTime > s.opts.ShutdownTimeout {
		errs = append(errs, fmt.Errorf("stopping the plugin took %s, more than %s", s.main.closeTime.Round(time.Millisecond), s.opts.ShutdownTimeout))
	}
	if strings.Contains(s.main.logs.String(), killedMessage) {
		errs = append(errs, errors.New("the plugin did not exit when asked and was killed"))
	}
	if !waitFor(s.opts.ShutdownTimeout, s.main.processGone) {
		errs = append(errs, fmt.Errorf("plugin process %d still runs after it was stopped", s.main.pid))
	}
	return errors.Join(errs...)
}

// waitFor polls cond until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
