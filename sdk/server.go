package sdk

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protowire"

	pb "github.com/vigilmon/vigil/sdk/proto/vigil/plugin/v1"
)

// MaxChunkBytes bounds one message of a collection: a collection larger
// than this is sent as several messages.
const MaxChunkBytes = 1 << 20

// ErrNotConfigured is returned by calls that come before Configure.
var ErrNotConfigured = errors.New("plugin is not configured yet: Configure must come first")

// Server answers the protocol's calls for one Plugin, whatever carries
// them: Serve uses it for gRPC, and package sdk/wasm for Wasm modules.
// Plugin authors do not need it.
type Server struct {
	plugin Plugin
	kind   Kind

	mu         sync.RWMutex
	configured bool
	exporter   Exporter
	discoverer Discoverer
	notifier   Notifier
}

// NewServer checks p and returns a server for it.
func NewServer(p Plugin) (*Server, error) {
	kind, err := p.Kind()
	if err != nil {
		return nil, err
	}
	return &Server{plugin: p, kind: kind}, nil
}

// Kind returns the plugin's kind.
func (s *Server) Kind() Kind { return s.kind }

// Info answers the Info call.
func (s *Server) Info() *pb.InfoResponse {
	return &pb.InfoResponse{
		Name:            s.plugin.Info.Name,
		Version:         s.plugin.Info.Version,
		Description:     s.plugin.Info.Description,
		Capabilities:    s.plugin.Info.Capabilities,
		Kind:            pb.Kind(s.kind),
		ProtocolVersion: ProtocolVersion,
	}
}

// Schema answers the Schema call.
func (s *Server) Schema() *pb.SchemaResponse {
	out := &pb.SchemaResponse{}
	for _, a := range s.plugin.Schema {
		attr := &pb.Attribute{
			Name:        a.Name,
			Type:        pb.AttributeType(a.Type),
			Required:    a.Required,
			Sensitive:   a.Sensitive,
			Description: a.Description,
		}
		if a.Default != nil {
			// check() has made sure the default converts, so it encodes.
			b, _ := json.Marshal(a.Default)
			attr.DefaultJson = string(b)
		}
		out.Attributes = append(out.Attributes, attr)
	}
	return out
}

// Configure answers the Configure call: it checks the config against the
// schema and builds a new instance of the plugin with it. On failure the
// instance in use, if any, stays.
func (s *Server) Configure(req *pb.ConfigureRequest) (resp *pb.ConfigureResponse) {
	fail := func(err error) *pb.ConfigureResponse {
		r := &pb.ConfigureResponse{Error: err.Error()}
		var ae *AttributeError
		if errors.As(err, &ae) {
			// The host names the attribute itself.
			r.Error, r.ErrorAttribute = ae.Err.Error(), ae.Attribute
		}
		return r
	}
	defer func() {
		if r := recover(); r != nil {
			resp = fail(fmt.Errorf("plugin %q panicked in Configure: %v\n%s", s.plugin.Info.Name, r, debug.Stack()))
		}
	}()
	cfg, err := s.plugin.Schema.Parse(req.GetConfigJson())
	if err != nil {
		return fail(err)
	}
	var (
		e Exporter
		d Discoverer
		n Notifier
	)
	switch s.kind {
	case KindExporter:
		e, err = s.plugin.Exporter(cfg)
		if err == nil && e == nil {
			err = errors.New("the exporter constructor returned nil")
		}
		if _, ok := e.(TargetCollector); err == nil && !ok && s.plugin.Info.HasCapability(CapabilityMultiTarget) {
			err = fmt.Errorf("plugin %q claims the %q capability, but its exporter does not implement sdk.TargetCollector", s.plugin.Info.Name, CapabilityMultiTarget)
		}
	case KindDiscoverer:
		d, err = s.plugin.Discoverer(cfg)
		if err == nil && d == nil {
			err = errors.New("the discoverer constructor returned nil")
		}
	case KindNotifier:
		n, err = s.plugin.Notifier(cfg)
		if err == nil && n == nil {
			err = errors.New("the notifier constructor returned nil")
		}
	}
	if err != nil {
		return fail(err)
	}
	s.mu.Lock()
	s.exporter, s.discoverer, s.notifier, s.configured = e, d, n, true
	s.mu.Unlock()
	return &pb.ConfigureResponse{}
}

func (s *Server) wrongKind(want Kind) error {
	return fmt.Errorf("plugin %q is a %s plugin, not a %s plugin", s.plugin.Info.Name, s.kind, want)
}

// Collect runs the exporter and hands its families to send in chunks of
// at most MaxChunkBytes (a family larger than that is split over several
// chunks, each carrying its name, help and type).
func (s *Server) Collect(ctx context.Context, send func(*pb.CollectResponse) error) error {
	return s.CollectRequest(ctx, &pb.CollectRequest{}, send)
}

// CollectRequest is Collect for the request req: when it names a
// target, the exporter's TargetCollector collects that target, and a
// plugin that is not a multi-target exporter answers with an error.
// When the exporter returns its families with a TargetError (see
// TargetDown), the families are sent, then a last message carrying the
// target error.
func (s *Server) CollectRequest(ctx context.Context, req *pb.CollectRequest, send func(*pb.CollectResponse) error) (err error) {
	if s.kind != KindExporter {
		return s.wrongKind(KindExporter)
	}
	s.mu.RLock()
	e, ok := s.exporter, s.configured
	s.mu.RUnlock()
	if !ok {
		return ErrNotConfigured
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plugin %q panicked in Collect: %v", s.plugin.Info.Name, r)
		}
	}()
	if dc, ok := e.(DelimitedCollector); ok && req.GetTarget() == nil {
		return s.collectDelimited(ctx, dc, send)
	}
	var families []*dto.MetricFamily
	if pt := req.GetTarget(); pt != nil {
		tc, ok := e.(TargetCollector)
		if !ok {
			return fmt.Errorf("plugin %q is not a multi-target exporter: it cannot collect target %q", s.plugin.Info.Name, pt.GetAddress())
		}
		families, err = tc.CollectTarget(ctx, Target{Address: pt.GetAddress(), Module: pt.GetModule(), Params: pt.GetParams()})
	} else {
		families, err = e.Collect(ctx)
	}
	te := AsTargetError(err)
	if err != nil && te == nil {
		return err
	}
	if te == nil {
		return sendChunks(families, MaxChunkBytes, send)
	}
	// A target error goes with the families, in a last message of its
	// own, so that the chunks before it stay as they are without one.
	if err := sendChunks(families, MaxChunkBytes, send); err != nil {
		return err
	}
	return send(&pb.CollectResponse{TargetError: targetErrorText(te)})
}

// collectDelimited collects from an exporter that encodes its collection
// itself, into a buffer of the pool, and sends it as CollectRequest does.
func (s *Server) collectDelimited(ctx context.Context, dc DelimitedCollector, send func(*pb.CollectResponse) error) error {
	bp := encodeBuffers.Get().(*[]byte)
	defer encodeBuffers.Put(bp)
	buf, err := dc.CollectDelimited(ctx, (*bp)[:0])
	if cap(buf) > 0 {
		*bp = buf[:0]
	}
	te := AsTargetError(err)
	if err != nil && te == nil {
		return err
	}
	if err := sendDelimited(buf, MaxChunkBytes, send); err != nil {
		return err
	}
	if te != nil {
		return send(&pb.CollectResponse{TargetError: targetErrorText(te)})
	}
	return nil
}

// targetErrorText is te's message as the protocol carries it: never
// empty, since an empty target_error means none.
func targetErrorText(te *TargetError) string {
	if te.Err == nil || te.Err.Error() == "" {
		return "the target is down"
	}
	return te.Err.Error()
}

// encodeBuffers keeps the buffers collections are encoded into, for the
// collections after them: a collection's encoding is a few hundred KiB,
// about the same every time. A buffer is taken back once every message
// made from it has been sent; send copies what it sends (gRPC encodes the
// message before SendMsg returns, and the SDK's gRPC server has no stats
// handler that could keep it).
var encodeBuffers = sync.Pool{New: func() any { return new([]byte) }}

// sendChunks encodes families in the delimited protobuf format and sends
// them in messages of at most about limit bytes each; a family larger than
// that alone is split over several messages, each part carrying the
// family's name, help and type.
func sendChunks(families []*dto.MetricFamily, limit int, send func(*pb.CollectResponse) error) error {
	bp := encodeBuffers.Get().(*[]byte)
	defer encodeBuffers.Put(bp)
	buf := (*bp)[:0]
	for _, f := range families {
		if f == nil {
			continue
		}
		var err error
		if buf, err = AppendDelimited(buf, f); err != nil {
			*bp = buf
			return err
		}
	}
	*bp = buf
	return sendDelimited(buf, limit, send)
}

// sendDelimited sends b, metric families in the delimited protobuf
// format, in messages of at most about limit bytes each, cut between
// families; a family larger than that alone is split over several
// messages by splitFamily.
func sendDelimited(b []byte, limit int, send func(*pb.CollectResponse) error) error {
	start, end := 0, 0
	for end < len(b) {
		n, k := protowire.ConsumeVarint(b[end:])
		if k < 0 || n > uint64(len(b)-end-k) {
			return fmt.Errorf("the encoded collection is cut short at byte %d of %d", end, len(b))
		}
		size := k + int(n)
		if end > start && end-start+size > limit {
			if err := send(&pb.CollectResponse{MetricFamilies: b[start:end]}); err != nil {
				return err
			}
			start = end
		}
		if size > limit {
			if err := splitFamily(b[end+k:end+size], limit, send); err != nil {
				return err
			}
			start = end + size
		}
		end += size
	}
	if end > start {
		return send(&pb.CollectResponse{MetricFamilies: b[start:end]})
	}
	return nil
}

// splitFamily sends the encoded metric family f, larger than limit, in
// parts of about limit bytes each, each a family in the delimited format
// holding f's fields other than its metrics (name, help, type, unit) and
// some of its metrics.
func splitFamily(f []byte, limit int, send func(*pb.CollectResponse) error) error {
	var header []byte
	var metrics [][]byte // each with its tag and length
	for rest := f; len(rest) > 0; {
		num, typ, n := protowire.ConsumeField(rest)
		if n < 0 {
			return fmt.Errorf("cannot split an encoded metric family: %w", protowire.ParseError(n))
		}
		if num == familyMetric && typ == protowire.BytesType {
			metrics = append(metrics, rest[:n])
		} else {
			header = append(header, rest[:n]...)
		}
		rest = rest[n:]
	}
	var part []byte
	flush := func() error {
		if len(part) == 0 {
			return nil
		}
		msg := protowire.AppendVarint(make([]byte, 0, binary.MaxVarintLen64+len(header)+len(part)), uint64(len(header)+len(part)))
		msg = append(append(msg, header...), part...)
		part = part[:0]
		return send(&pb.CollectResponse{MetricFamilies: msg})
	}
	for _, m := range metrics {
		if len(part) > 0 && binary.MaxVarintLen64+len(header)+len(part)+len(m) > limit {
			if err := flush(); err != nil {
				return err
			}
		}
		part = append(part, m...)
	}
	return flush()
}

// Discover runs the discoverer, handing each update to send.
func (s *Server) Discover(ctx context.Context, send func(*pb.DiscoverResponse) error) (err error) {
	if s.kind != KindDiscoverer {
		return s.wrongKind(KindDiscoverer)
	}
	s.mu.RLock()
	d, ok := s.discoverer, s.configured
	s.mu.RUnlock()
	if !ok {
		return ErrNotConfigured
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plugin %q panicked in Discover: %v", s.plugin.Info.Name, r)
		}
	}()
	return d.Discover(ctx, func(groups []TargetGroup) error {
		return send(groupsToProto(groups))
	})
}

// Poll polls the discoverer once, which must be a PollingDiscoverer,
// and returns every group it finds now.
func (s *Server) Poll(ctx context.Context) (resp *pb.DiscoverResponse, err error) {
	if s.kind != KindDiscoverer {
		return nil, s.wrongKind(KindDiscoverer)
	}
	s.mu.RLock()
	d, ok := s.discoverer, s.configured
	s.mu.RUnlock()
	if !ok {
		return nil, ErrNotConfigured
	}
	pd, ok := d.(PollingDiscoverer)
	if !ok {
		return nil, fmt.Errorf("plugin %q cannot be polled: its discoverer does not implement sdk.PollingDiscoverer", s.plugin.Info.Name)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plugin %q panicked in Poll: %v", s.plugin.Info.Name, r)
		}
	}()
	groups, err := pd.Poll(ctx)
	if err != nil {
		return nil, err
	}
	return groupsToProto(groups), nil
}

// groupsToProto is groups as a DiscoverResponse carries them.
func groupsToProto(groups []TargetGroup) *pb.DiscoverResponse {
	resp := &pb.DiscoverResponse{}
	for _, g := range groups {
		pg := &pb.TargetGroup{Source: g.Source, Labels: g.Labels}
		for _, t := range g.Targets {
			pg.Targets = append(pg.Targets, &pb.Target{Labels: t})
		}
		resp.Groups = append(resp.Groups, pg)
	}
	return resp
}

// Notify runs the notifier on the request's notification.
func (s *Server) Notify(ctx context.Context, req *pb.NotifyRequest) (resp *pb.NotifyResponse) {
	if s.kind != KindNotifier {
		return &pb.NotifyResponse{Error: s.wrongKind(KindNotifier).Error()}
	}
	s.mu.RLock()
	n, ok := s.notifier, s.configured
	s.mu.RUnlock()
	if !ok {
		return &pb.NotifyResponse{Error: ErrNotConfigured.Error(), Retryable: true}
	}
	defer func() {
		if r := recover(); r != nil {
			resp = &pb.NotifyResponse{Error: fmt.Sprintf("plugin %q panicked in Notify: %v", s.plugin.Info.Name, r), Retryable: true}
		}
	}()
	msg, err := NotificationFromProto(req.GetNotification())
	if err != nil {
		return &pb.NotifyResponse{Error: err.Error()}
	}
	if err := n.Notify(ctx, msg); err != nil {
		return &pb.NotifyResponse{Error: err.Error(), Retryable: !IsPermanent(err)}
	}
	return &pb.NotifyResponse{}
}
