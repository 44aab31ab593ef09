package scrape

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/sdk"
)

// protobufContentType is the delimited protobuf exposition format, in
// which a collection of an exporter plugin is parsed.
const protobufContentType = `application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited`

// Exporters gives the manager the exporter plugin instances of the
// configuration by exporter block name.
type Exporters func(name string) (sdk.Exporter, bool)

// exporterTarget is the target of an exporter block. Its instance label
// is the host Vigil runs on, where the plugin collects, as an exporter
// scraped on this host would say; relabel blocks can change it.
func exporterTarget(sc *hclconfig.Scrape) (*Target, error) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	t, err := NewTarget(sc, labels.FromStrings("__address__", host), labels.EmptyLabels())
	if err != nil || t == nil {
		return t, err
	}
	t.URL = &url.URL{Scheme: "plugin", Host: sc.Name}
	return t, nil
}

// collect runs the exporter within the target's timeout and returns its
// families encoded in the protobuf format, so that the rest of a scrape
// (labels, relabeling, limits, staleness) is the one of HTTP targets. The
// buffer is one of getBodyBuffer, for the caller to put back. When the
// exporter reports its target down, the buffer comes with the error, an
// sdk.TargetError in its chain.
func (s *scraper) collect(ctx context.Context) (*bodyBuffer, string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.target.Timeout)
	defer cancel()
	if probe := s.target.Probe; probe != nil {
		return s.collectTarget(ctx, *probe)
	}
	if dc, ok := s.exporter.(delimitedCollector); ok {
		return s.collectDelimited(ctx, dc)
	}
	families, err := s.exporter.Collect(ctx)
	return s.encodeCollection(families, err)
}

// encodeCollection is encode for the result of a Collect or
// CollectTarget: an error fails it, except a target error, which comes
// with the encoded families.
func (s *scraper) encodeCollection(families []*dto.MetricFamily, err error) (*bodyBuffer, string, error) {
	if err != nil && sdk.AsTargetError(err) == nil {
		return nil, "", fmt.Errorf("%s: %w", s.exporterName(), err)
	}
	body, contentType, encErr := s.encode(families)
	if encErr != nil {
		return nil, "", encErr
	}
	return body, contentType, s.targetError(err)
}

// targetError is the target error err of a collection as the health
// shows it, naming the exporter, or nil.
func (s *scraper) targetError(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", s.exporterName(), err)
}

// delimitedCollection is delimitedBody for the result of a
// CollectDelimited or CollectTargetDelimited, as encodeCollection.
func (s *scraper) delimitedCollection(b []byte, err error) (*bodyBuffer, string, error) {
	if err != nil && sdk.AsTargetError(err) == nil {
		return nil, "", fmt.Errorf("%s: %w", s.exporterName(), err)
	}
	body, contentType, bodyErr := s.delimitedBody(b)
	if bodyErr != nil {
		return nil, "", bodyErr
	}
	return body, contentType, s.targetError(err)
}

// collectTarget collects one target of a multi-target exporter block.
func (s *scraper) collectTarget(ctx context.Context, t sdk.Target) (*bodyBuffer, string, error) {
	if dc, ok := s.exporter.(delimitedTargetCollector); ok {
		return s.delimitedCollection(dc.CollectTargetDelimited(ctx, t))
	}
	tc, ok := s.exporter.(sdk.TargetCollector)
	if !ok {
		return nil, "", fmt.Errorf("%s is not a multi-target exporter: it cannot collect target %q", s.exporterName(), t.Address)
	}
	return s.encodeCollection(tc.CollectTarget(ctx, t))
}

// encode writes families in the protobuf format into a buffer of
// getBodyBuffer, for the caller to put back.
func (s *scraper) encode(families []*dto.MetricFamily) (*bodyBuffer, string, error) {
	buf := s.getBodyBuffer()
	enc := expfmt.NewEncoder(buf, expfmt.NewFormat(expfmt.TypeProtoDelim))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			putBodyBuffer(buf)
			return nil, "", fmt.Errorf("%s returned a family it cannot encode: %w", s.exporterName(), err)
		}
		if limit := s.cfg.BodySizeLimit; limit > 0 && int64(buf.Len()) > limit {
			putBodyBuffer(buf)
			return nil, "", fmt.Errorf("%w: the collection is larger than %d bytes", errBodySize, limit)
		}
	}
	s.lastBodySize = buf.Len()
	return buf, protobufContentType, nil
}

// delimitedCollector is an exporter that hands its collection over as it
// came from the plugin, in the delimited protobuf format: a plugin
// instance does, and the collection then goes to the parser undecoded.
type delimitedCollector interface {
	CollectDelimited(ctx context.Context) ([]byte, error)
}

// delimitedTargetCollector is delimitedCollector for one target of a
// multi-target exporter.
type delimitedTargetCollector interface {
	CollectTargetDelimited(ctx context.Context, t sdk.Target) ([]byte, error)
}

func (s *scraper) collectDelimited(ctx context.Context, dc delimitedCollector) (*bodyBuffer, string, error) {
	return s.delimitedCollection(dc.CollectDelimited(ctx))
}

// delimitedBody is the body of a collection b in the delimited protobuf
// format, checked against the body size limit.
func (s *scraper) delimitedBody(b []byte) (*bodyBuffer, string, error) {
	if limit := s.cfg.BodySizeLimit; limit > 0 && int64(len(b)) > limit {
		return nil, "", fmt.Errorf("%w: the collection is larger than %d bytes", errBodySize, limit)
	}
	s.lastBodySize = len(b)
	body := &bodyBuffer{pool: -1}
	body.Buffer = *bytes.NewBuffer(b)
	return body, protobufContentType, nil
}

// exporterName names the exporter in errors: the plugin of an exporter
// block, or the job of a Source.
func (s *scraper) exporterName() string {
	if s.cfg.Exporter != nil && s.cfg.Exporter.Plugin != nil {
		return "exporter plugin " + s.cfg.Exporter.Plugin.Name
	}
	return "source " + s.cfg.Name
}
