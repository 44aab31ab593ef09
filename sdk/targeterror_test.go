package sdk

import (
	"context"
	"errors"
	"fmt"
	"testing"

	dto "github.com/prometheus/client_model/go"

	pb "github.com/vigilmon/vigil/sdk/proto/vigil/plugin/v1"
)

// downExporter reports its own up metric at 0 with a target error, as an
// exporter whose database is down does; with plain set, it fails itself.
type downExporter struct{ plain bool }

func (e downExporter) Collect(context.Context) ([]*dto.MetricFamily, error) {
	if e.plain {
		return []*dto.MetricFamily{gauge("db_up", "", 0)}, errors.New("broken exporter")
	}
	return []*dto.MetricFamily{gauge("db_up", "", 0)}, fmt.Errorf("collect: %w", TargetDown(errors.New("connection refused")))
}

func TestTargetDownSendsFamiliesAndTargetError(t *testing.T) {
	serve := func(exp Exporter) ([]*pb.CollectResponse, error) {
		s, err := NewServer(Plugin{Info: Info{Name: "db"}, Exporter: func(Config) (Exporter, error) { return exp, nil }})
		if err != nil {
			t.Fatal(err)
		}
		if r := s.Configure(&pb.ConfigureRequest{}); r.GetError() != "" {
			t.Fatal(r.GetError())
		}
		var got []*pb.CollectResponse
		err = s.Collect(context.Background(), func(r *pb.CollectResponse) error {
			got = append(got, r)
			return nil
		})
		return got, err
	}
	got, err := serve(downExporter{})
	if err != nil {
		t.Fatalf("a target error failed the collection: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d messages, want the families then the target error", len(got))
	}
	if len(got[0].MetricFamilies) == 0 || got[0].TargetError != "" {
		t.Errorf("first message = %v, want the families alone", got[0])
	}
	if len(got[1].MetricFamilies) != 0 || got[1].TargetError != "connection refused" {
		t.Errorf("last message = %v, want target_error %q alone", got[1], "connection refused")
	}

	if _, err := serve(downExporter{plain: true}); err == nil || err.Error() != "broken exporter" {
		t.Errorf("an exporter's own error = %v, want it to fail the collection", err)
	}
}

func TestTargetDown(t *testing.T) {
	if TargetDown(nil) != nil {
		t.Error("TargetDown(nil) is not nil")
	}
	base := errors.New("refused")
	err := fmt.Errorf("scrape: %w", TargetDown(base))
	te := AsTargetError(err)
	if te == nil || te.Err != base || !errors.Is(err, base) {
		t.Fatalf("AsTargetError(%v) = %v, want the target error wrapping %v", err, te, base)
	}
	if TargetDown(err) != err {
		t.Error("TargetDown wrapped a target error again")
	}
	if AsTargetError(base) != nil {
		t.Error("a plain error is taken as a target error")
	}
}
