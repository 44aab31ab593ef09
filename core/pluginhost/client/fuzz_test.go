package client_test

import (
	"bytes"
	"net/url"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/proto"

	"github.com/vigilmon/vigil/core/pluginhost/client"
	"github.com/vigilmon/vigil/core/scrape"
	"github.com/vigilmon/vigil/hclconfig"
	"github.com/vigilmon/vigil/sdk"
	pb "github.com/vigilmon/vigil/sdk/proto/vigil/plugin/v1"
)

// What FuzzFromProto decodes its bytes as, by its first argument.
const (
	fuzzInfo = iota
	fuzzSchema
	fuzzFamilies
	fuzzDiscover
	fuzzAnswers
	fuzzKinds
)

// FuzzFromProto decodes any bytes as an answer a plugin sends and
// converts it as the host does. Nothing may panic, and each conversion
// keeps its promise: an Info accepted is of a known kind; a schema is one
// the host can decode a config block against; metric families decoded
// encode back to bytes that decode to the same families; a discovered
// target the scrape block accepts has a URL that parses back to its
// address.
func FuzzFromProto(f *testing.F) {
	add := func(what int, m proto.Message) {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(what), b)
	}
	add(fuzzInfo, &pb.InfoResponse{Name: "node", Version: "1.0.0", Kind: pb.Kind(sdk.KindExporter), ProtocolVersion: sdk.ProtocolVersion})
	add(fuzzSchema, &pb.SchemaResponse{Attributes: []*pb.Attribute{
		{Name: "url", Type: pb.AttributeType(sdk.TypeString), Required: true},
		{Name: "timeout", Type: pb.AttributeType(sdk.TypeDuration), DefaultJson: `"10s"`},
		{Name: "tags", Type: pb.AttributeType(sdk.TypeStringList), DefaultJson: `["a"]`},
		{Name: "", Type: 99},
	}})
	add(fuzzDiscover, &pb.DiscoverResponse{Groups: []*pb.TargetGroup{{
		Source: "file:a", Labels: map[string]string{"env": "prod"},
		Targets: []*pb.Target{{Labels: map[string]string{"__address__": "localhost:9100"}}, {Labels: map[string]string{"__address__": "h:1", "__scheme__": "https", "__metrics_path__": "/m", "__param_x": "y"}}},
	}}})
	add(fuzzAnswers, &pb.ConfigureResponse{Error: "bad", ErrorAttribute: "url"})
	var fams bytes.Buffer
	for _, mf := range []*dto.MetricFamily{
		{Name: proto.String("up"), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(1)}}}},
		{Name: proto.String("up"), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(0)}}}},
		{Name: proto.String("jobs_total"), Type: dto.MetricType_COUNTER.Enum(), Metric: []*dto.Metric{{Counter: &dto.Counter{Value: proto.Float64(3)}}}},
	} {
		if _, err := protodelim.MarshalTo(&fams, mf); err != nil {
			f.Fatal(err)
		}
	}
	f.Add(uint8(fuzzFamilies), fams.Bytes())
	f.Add(uint8(fuzzFamilies), []byte{0xff, 0xff, 0xff, 0xff, 0x0f})

	cfg, diags := hclconfig.Parse("fuzz.hcl", []byte(`scrape "fuzz" {}`))
	if diags.HasErrors() {
		f.Fatal(diags.Error())
	}
	sc := cfg.Scrapes[0]
	body, diags := hclsyntax.ParseConfig([]byte("url = \"http://x\"\ntimeout = \"5s\"\ntags = [\"a\"]\nport = 1\n"), "config.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		f.Fatal(diags.Error())
	}
	f.Fuzz(func(t *testing.T, what uint8, b []byte) {
		switch what % fuzzKinds {
		case fuzzInfo:
			var r pb.InfoResponse
			if proto.Unmarshal(b, &r) != nil {
				return
			}
			if _, kind, err := client.InfoFromProto(&r); err == nil && (kind < sdk.KindExporter || kind > sdk.KindNotifier) {
				t.Fatalf("InfoFromProto accepted kind %d", kind)
			}
		case fuzzSchema:
			var r pb.SchemaResponse
			if proto.Unmarshal(b, &r) != nil {
				return
			}
			schema, err := client.SchemaFromProto(&r)
			if err != nil {
				return
			}
			inst := &hclconfig.PluginInstance{Kind: sdk.KindExporter, Name: "fuzz", Plugin: &hclconfig.Plugin{Name: "fuzz"}, Body: body.Body}
			hclconfig.DecodePluginConfig(inst, schema)
		case fuzzFamilies:
			fams, err := client.DecodeFamilies(b)
			if err != nil {
				return
			}
			var again bytes.Buffer
			for _, mf := range fams {
				if _, err := protodelim.MarshalTo(&again, mf); err != nil {
					t.Fatalf("decoded family %s does not encode: %v", mf.GetName(), err)
				}
			}
			fams2, err := client.DecodeFamilies(again.Bytes())
			if err != nil {
				t.Fatalf("decoded families encode to bytes that do not decode: %v", err)
			}
			if len(fams2) != len(fams) {
				t.Fatalf("%d families encode and decode to %d", len(fams), len(fams2))
			}
			for i := range fams {
				if !proto.Equal(fams[i], fams2[i]) {
					t.Fatalf("family %d encodes and decodes to another:\n%v\n%v", i, fams[i], fams2[i])
				}
			}
		case fuzzDiscover:
			var r pb.DiscoverResponse
			if proto.Unmarshal(b, &r) != nil {
				return
			}
			for _, g := range client.TargetGroupsFromProto(&r) {
				for _, tl := range g.Targets {
					tgt, err := scrape.NewTarget(sc, labels.FromMap(tl), labels.FromMap(g.Labels))
					if err != nil || tgt == nil {
						continue
					}
					u, err := url.Parse(tgt.URL.String())
					if err != nil {
						t.Fatalf("target %v has URL %q, which does not parse: %v", tl, tgt.URL, err)
					}
					if addr := tgt.Labels.Get(model.AddressLabel); u.Host != addr {
						t.Fatalf("target %v at address %q has URL %q, of host %q", tl, addr, tgt.URL, u.Host)
					}
				}
			}
		case fuzzAnswers:
			var c pb.ConfigureResponse
			if proto.Unmarshal(b, &c) == nil {
				if err := client.ConfigureError(&c); (err == nil) != (c.Error == "") {
					t.Fatalf("ConfigureError(%v) = %v", &c, err)
				}
			}
			var n pb.NotifyResponse
			if proto.Unmarshal(b, &n) == nil {
				if err := client.NotifyError(&n); (err == nil) != (n.Error == "") {
					t.Fatalf("NotifyError(%v) = %v", &n, err)
				}
			}
		}
	})
}
