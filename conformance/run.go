package conformance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/vigilmon/vigil/sdk"
)

// Level says how much a check matters.
type Level string

// The levels, as RFC 2119 writes them. A MUST failure fails the plugin;
// a SHOULD failure is reported without failing it.
const (
	Must   Level = "MUST"
	Should Level = "SHOULD"
)

// Status is the outcome of a check.
type Status string

// The outcomes of a check.
const (
	Pass Status = "pass"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Default bounds of Options.
const (
	DefaultStartTimeout     = 30 * time.Second
	DefaultCallTimeout      = 10 * time.Second
	DefaultShutdownTimeout  = 5 * time.Second
	DefaultDiscoveryTimeout = 10 * time.Second
	// DefaultMaxCollectionBytes is the largest message the host takes
	// from a plugin (client.MaxMessageBytes).
	DefaultMaxCollectionBytes = 64 << 20
)

// Options say how to run the suite.
type Options struct {
	// Kind is the kind the plugin must be; zero takes the kind the
	// plugin says it is.
	Kind sdk.Kind
	// ConfigJSON is a config for the plugin, a JSON object; its
	// attributes are laid over the config the suite builds from the
	// schema (see SampleConfig), but for those that the capabilities the
	// plugin claims drive, which stay on the suite's receivers.
	ConfigJSON []byte
	// DecodeConfig, when set, gives ConfigJSON once the plugin has said
	// what it is: it is called with the plugin's Info, the kind checked
	// (Kind, or else the plugin's own; zero when unknown) and the
	// plugin's schema. It is for a config written in HCL, such as the
	// config block of the plugin in a Vigil configuration file, which is
	// decoded against the schema (hclconfig.DecodePluginConfig). Its
	// error fails config.sample.
	DecodeConfig func(info sdk.Info, kind sdk.Kind, schema sdk.Schema) ([]byte, error)
	// RemoveGroup, for a discoverer that does not poll the suite's
	// receiver, makes one of the groups it has sent go away (for a file
	// discoverer, removing a file); without it the check
	// discovery.removed-group-empty is skipped.
	RemoveGroup func(ctx context.Context) error
	// Targets, for a multi-target exporter (one that claims
	// sdk.CapabilityMultiTarget), are the targets the suite collects:
	// the exporter checks collect the first, the multi-target checks the
	// first two at once. Without them the suite collects its loopback
	// HTTP receiver, by URL and by host:port, with the plugin's default
	// module.
	Targets []sdk.Target
	// Progress, when set, is called as each check starts: its index
	// from 1, the number of checks, and the check.
	Progress func(i, total int, c Check)

	// StartTimeout bounds a start; CallTimeout a call; ShutdownTimeout a
	// stop; DiscoveryTimeout the wait for a discoverer's update.
	// MaxCollectionBytes bounds an exporter's collection, encoded.
	// Defaults when zero.
	StartTimeout       time.Duration
	CallTimeout        time.Duration
	ShutdownTimeout    time.Duration
	DiscoveryTimeout   time.Duration
	MaxCollectionBytes int
}

func (o *Options) defaults() {
	if o.StartTimeout <= 0 {
		o.StartTimeout = DefaultStartTimeout
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	if o.DiscoveryTimeout <= 0 {
		o.DiscoveryTimeout = DefaultDiscoveryTimeout
	}
	if o.MaxCollectionBytes <= 0 {
		o.MaxCollectionBytes = DefaultMaxCollectionBytes
	}
}

// Result is the outcome of one check.
type Result struct {
	// ID, Level and Reason are the check's (see Check).
	ID     string `json:"id"`
	Level  Level  `json:"level"`
	Reason string `json:"reason"`
	// Status is pass, fail or skip.
	Status Status `json:"status"`
	// Detail says why the check failed or was skipped; for a pass, what
	// the check found worth saying, if anything.
	Detail string `json:"detail,omitempty"`
	// Duration is how long the check took.
	Duration time.Duration `json:"duration_ns"`
}

// Report is the outcome of a run: every check, in order.
type Report struct {
	// Target is the plugin's path, or names an in-process plugin.
	Target string `json:"target"`
	// Kind is the kind checked, as configs write it; empty when neither
	// given nor learnt from the plugin.
	Kind string `json:"kind"`
	// Plugin and Version are what the plugin's Info says, once it did.
	Plugin  string `json:"plugin,omitempty"`
	Version string `json:"version,omitempty"`
	// Results are the checks run, in order.
	Results []Result `json:"results"`
	// Duration is how long the run took.
	Duration time.Duration `json:"duration_ns"`
}

// Failed says whether a MUST check failed.
func (r Report) Failed() bool { return r.MustFailures() > 0 }

// MustFailures is how many MUST checks failed.
func (r Report) MustFailures() int {
	n := 0
	for _, res := range r.Results {
		if res.Status == Fail && res.Level == Must {
			n++
		}
	}
	return n
}

// Count is how many checks had status s.
func (r Report) Count(s Status) int {
	n := 0
	for _, res := range r.Results {
		if res.Status == s {
			n++
		}
	}
	return n
}

// Result returns the result of the check id, or false.
func (r Report) Result(id string) (Result, bool) {
	i := slices.IndexFunc(r.Results, func(res Result) bool { return res.ID == id })
	if i < 0 {
		return Result{}, false
	}
	return r.Results[i], true
}

// Run runs every check for opts.Kind (the plugin's own kind when zero)
// against target and reports each. The error is for a run that could
// not happen at all (a target with neither Path nor Plugin); a plugin
// that fails to start is a failed check.
func Run(ctx context.Context, target Target, opts Options) (Report, error) {
	s, err := newSession(ctx, target, opts)
	if err != nil {
		return Report{}, err
	}
	defer s.close()
	start := time.Now()
	// The kind's checks are known once the plugin has said its kind.
	for i := 0; ; i++ {
		checks := s.checks()
		if i == len(checks) {
			break
		}
		if s.opts.Progress != nil {
			s.opts.Progress(i+1, len(checks), checks[i])
		}
		s.run(checks[i])
	}
	rep := s.report()
	rep.Duration = time.Since(start)
	return rep, nil
}

// passNote is a check's pass with a note for the report's Detail.
type passNote struct{ note string }

func (e *passNote) Error() string { return e.note }

// passf is a check's pass, with a note saying what it found.
func passf(format string, args ...any) error { return &passNote{fmt.Sprintf(format, args...)} }

// skipError is a check's reason to skip.
type skipError struct{ reason string }

func (e *skipError) Error() string { return e.reason }

// skipf skips a check, saying why.
func skipf(format string, args ...any) error { return &skipError{fmt.Sprintf(format, args...)} }

// session is one run of the suite: the target, the plugin started for
// it, and what earlier checks learnt.
type session struct {
	ctx    context.Context
	target Target
	opts   Options
	recv   *receiver
	// smtp is the SMTP receiver, started for a plugin that claims
	// delivers-smtp; nil otherwise.
	smtp *smtpReceiver

	// main is the plugin most checks use; others start their own.
	main     *plugConn
	startErr error
	started  []*plugConn

	info       sdk.Info
	kind       sdk.Kind
	infoErr    error
	schema     sdk.Schema
	schemaErr  error
	sample     map[string]any
	sampleJSON []byte
	decodeErr  error
	configured bool

	// receiverAttrs are the URL attributes the sample config points at
	// the receiver; smtpAttrs those it points at the SMTP receiver.
	receiverAttrs, smtpAttrs []string
	// filesDir holds the files written for a discoverer that claims
	// reads-files, filesGlob the value of its "files" attribute.
	filesDir, filesGlob string

	exp   exporterState
	disc  discoveryState
	notif notifierState

	results []Result
}

func newSession(ctx context.Context, target Target, opts Options) (*session, error) {
	if err := target.check(); err != nil {
		return nil, err
	}
	opts.defaults()
	recv, err := newReceiver()
	if err != nil {
		return nil, err
	}
	s := &session{ctx: ctx, target: target, opts: opts, recv: recv}
	return s, nil
}

// checks are the checks for the kind asked for, or else for the kind
// the plugin says it is; only those for every kind while neither is
// known.
func (s *session) checks() []Check {
	kind := s.opts.Kind
	if kind == 0 {
		kind = s.kind
	}
	var out []Check
	for _, c := range allChecks {
		if c.Kind == 0 || c.Kind == kind {
			out = append(out, c)
		}
	}
	return out
}

// run runs one check and records its result.
func (s *session) run(c Check) Result {
	start := time.Now()
	res := Result{ID: c.ID, Level: c.Level, Reason: c.Reason}
	var err error
	switch {
	case c.Kind != 0 && s.kind != 0 && c.Kind != s.kind:
		err = skipf("the plugin is %s plugin, this check is for %s plugins", article(s.kind), c.Kind)
	case len(c.Capabilities) > 0 && s.main != nil && s.infoErr == nil && !slices.ContainsFunc(c.Capabilities, s.info.HasCapability):
		err = skipf("the plugin does not claim %s", strings.Join(c.Capabilities, " or "))
	default:
		err = s.safeRun(c)
	}
	var skip *skipError
	var note *passNote
	switch {
	case err == nil:
		res.Status = Pass
	case errors.As(err, &note):
		res.Status, res.Detail = Pass, note.note
	case errors.As(err, &skip):
		res.Status, res.Detail = Skip, skip.reason
	default:
		res.Status, res.Detail = Fail, err.Error()
	}
	res.Duration = time.Since(start)
	s.results = append(s.results, res)
	return res
}

// safeRun runs c, turning a panic of the suite into a failure rather
// than the end of the run.
func (s *session) safeRun(c Check) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the check panicked: %v", r)
		}
	}()
	return c.run(s)
}

func (s *session) report() Report {
	kind := s.kind
	if kind == 0 {
		kind = s.opts.Kind
	}
	rep := Report{Target: s.target.String(), Plugin: s.info.Name, Version: s.info.Version, Results: slices.Clone(s.results)}
	if kind != 0 {
		rep.Kind = kind.String()
	}
	return rep
}

// close stops every plugin the session started, and the receiver.
func (s *session) close() {
	if s.disc.watch != nil {
		s.disc.watch.stop()
	}
	for _, c := range s.started {
		c.close()
	}
	s.recv.close()
	if s.smtp != nil {
		s.smtp.close()
	}
	if s.filesDir != "" {
		os.RemoveAll(s.filesDir)
	}
}

// start starts a plugin for a check; the session stops it at the end if
// the check does not.
func (s *session) start() (*plugConn, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.StartTimeout)
	defer cancel()
	c, err := start(ctx, s.target, &s.opts)
	if err != nil {
		return nil, err
	}
	s.started = append(s.started, c)
	return c, nil
}

// callCtx bounds one call.
func (s *session) callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(s.ctx, s.opts.CallTimeout)
}

// needStarted skips a check when the plugin did not start.
func (s *session) needStarted() error {
	if s.main == nil {
		return skipf("the plugin did not start (see plugin.handshake)")
	}
	return nil
}

// needSchema skips a check when the schema is not known.
func (s *session) needSchema() error {
	if err := s.needStarted(); err != nil {
		return err
	}
	if s.schemaErr != nil || s.sample == nil {
		return skipf("the plugin's schema is unknown (see plugin.schema)")
	}
	return nil
}

// needConfigured skips a check when the plugin could not be configured.
func (s *session) needConfigured() error {
	if err := s.needSchema(); err != nil {
		return err
	}
	if !s.configured {
		return skipf("the plugin is not configured (see config.sample)")
	}
	return nil
}

// configure configures c with the sample config.
func (s *session) configure(c *plugConn) error {
	ctx, cancel := s.callCtx()
	defer cancel()
	return c.Configure(ctx, s.sampleJSON)
}

func article(k sdk.Kind) string {
	if k == sdk.KindExporter {
		return "an " + k.String()
	}
	return "a " + k.String()
}
