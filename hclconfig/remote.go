package hclconfig

import (
	"maps"
	"net/url"
	"slices"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/zclconf/go-cty/cty"
)

// Defaults of remote write and remote read, as Prometheus has them.
const (
	// DefaultRemoteTimeout bounds one request of a remote_write block.
	DefaultRemoteTimeout = 30 * time.Second
	// DefaultRemoteReadTimeout bounds one request of a remote_read block.
	DefaultRemoteReadTimeout = time.Minute
	// RemoteWriteV1 and RemoteWriteV2 are the protobuf messages of
	// Remote-Write 1.0 and 2.0, the values of protobuf_message.
	RemoteWriteV1 = "prometheus.WriteRequest"
	RemoteWriteV2 = "io.prometheus.write.v2.Request"
	// DefaultRemoteReadSampleLimit, DefaultRemoteReadConcurrentLimit and
	// DefaultRemoteReadMaxBytesInFrame are Prometheus's defaults of
	// storage.remote.read-sample-limit, read-concurrent-limit and
	// read-max-bytes-in-frame.
	DefaultRemoteReadSampleLimit     = 50_000_000
	DefaultRemoteReadConcurrentLimit = 10
	DefaultRemoteReadMaxBytesInFrame = 1 << 20
)

// DefaultRemoteWriteQueue is the queue of a remote_write block that sets
// none: Prometheus's queue_config defaults.
var DefaultRemoteWriteQueue = RemoteWriteQueue{
	Capacity:          10000,
	MinShards:         1,
	MaxShards:         50,
	MaxSamplesPerSend: 2000,
	BatchSendDeadline: 5 * time.Second,
	MinBackoff:        30 * time.Millisecond,
	MaxBackoff:        5 * time.Second,
}

// RemoteWrite is a `remote_write "<name>"` block: a receiver the samples
// of the store are sent to as they are written, as Prometheus's
// remote_write. Name names its queue in the metrics.
type RemoteWrite struct {
	Name string
	URL  *url.URL
	// ProtobufMessage is RemoteWriteV1 (the default) or RemoteWriteV2.
	ProtobufMessage string
	// RemoteTimeout bounds one request.
	RemoteTimeout        time.Duration
	SendExemplars        bool
	SendNativeHistograms bool
	HTTPClient
	Queue RemoteWriteQueue
	// WriteRelabel relabels each sample's labels before it is sent; a
	// sample whose labels are dropped is not sent.
	WriteRelabel []*relabel.Config
	Range        hcl.Range
}

// RemoteRead is a `remote_read "<name>"` block: another store whose
// series the queries read beside the local ones, as Prometheus's
// remote_read. Name names it in logs and in its errors.
type RemoteRead struct {
	Name string
	URL  *url.URL
	// RemoteTimeout bounds one request.
	RemoteTimeout time.Duration
	// ReadRecent reads the remote store for every time range; without it,
	// only for the part of a query's range older than the oldest sample
	// of the local store.
	ReadRecent bool
	// RequiredMatchers, label name to value, are the equality matchers a
	// query's selector must have for the remote store to be read.
	RequiredMatchers map[string]string
	// FilterExternalLabels adds the external labels to the matchers sent
	// and takes them off the series received.
	FilterExternalLabels bool
	HTTPClient
	Range hcl.Range
}

// RemoteWriteQueue is the `queue` block of a remote_write block, as
// Prometheus's queue_config.
type RemoteWriteQueue struct {
	Capacity          int
	MinShards         int
	MaxShards         int
	MaxSamplesPerSend int
	BatchSendDeadline time.Duration
	MinBackoff        time.Duration
	MaxBackoff        time.Duration
	RetryOnHTTP429    bool
}

var remoteWriteClient = httpClient(func(r *RemoteWrite) *HTTPClient { return &r.HTTPClient }, "receiver", false)

var remoteWriteSpec = &block[RemoteWrite]{
	name: "remote_write", label: "NAME", doc: "A receiver the samples are sent to as they are stored; NAME names its queue.",
	labelOf: func(r *RemoteWrite) *string { return &r.Name },
	rangeOf: func(r *RemoteWrite) *hcl.Range { return &r.Range },
	attrs: append([]attr[RemoteWrite]{
		field("url", remoteURL, func(r *RemoteWrite) **url.URL { return &r.URL },
			"Where the samples are posted, such as https://mimir.example.com/api/v1/push.").require(),
		withDefault("protobuf_message", str, func(r *RemoteWrite) *string { return &r.ProtobufMessage }, RemoteWriteV1,
			"\""+RemoteWriteV1+"\" (Remote-Write 1.0) or \""+RemoteWriteV2+"\" (2.0)."),
		withDefault("remote_timeout", duration[time.Duration](), func(r *RemoteWrite) *time.Duration { return &r.RemoteTimeout }, DefaultRemoteTimeout,
			"How long one request may take."),
		withDefault("send_exemplars", boolean, func(r *RemoteWrite) *bool { return &r.SendExemplars }, false,
			"Whether exemplars are sent."),
		withDefault("send_native_histograms", boolean, func(r *RemoteWrite) *bool { return &r.SendNativeHistograms }, false,
			"Whether native histograms are sent."),
	}, remoteWriteClient.attrs...),
	children: append(slices.Clone(remoteWriteClient.blocks),
		nested[RemoteWrite, RemoteWriteQueue]{spec: queueSpec, ptr: func(r *RemoteWrite) *RemoteWriteQueue { return &r.Queue }},
		listOf(func(r *RemoteWrite) *[]*relabel.Config { return &r.WriteRelabel },
			relabelSpec.named("write_relabel", "A relabeling of each sample's labels before it is sent; any number, in order.")),
	),
	check: func(s *scope, r *RemoteWrite) {
		if r.ProtobufMessage != RemoteWriteV1 && r.ProtobufMessage != RemoteWriteV2 {
			s.errorf("protobuf_message", "Invalid protobuf_message", "protobuf_message must be %q or %q, not %q.", RemoteWriteV1, RemoteWriteV2, r.ProtobufMessage)
		}
		checkHTTPClient(s, "remote_write", r.Name, &r.HTTPClient)
	},
}

var remoteReadClient = httpClient(func(r *RemoteRead) *HTTPClient { return &r.HTTPClient }, "store", true)

var remoteReadSpec = &block[RemoteRead]{
	name: "remote_read", label: "NAME", doc: "Another store the queries read beside the local one; NAME names it in logs and errors.",
	labelOf: func(r *RemoteRead) *string { return &r.Name },
	rangeOf: func(r *RemoteRead) *hcl.Range { return &r.Range },
	attrs: append([]attr[RemoteRead]{
		field("url", remoteURL, func(r *RemoteRead) **url.URL { return &r.URL },
			"Where remote reads are posted, such as http://prometheus.example.com:9090/api/v1/read.").require(),
		withDefault("remote_timeout", duration[time.Duration](), func(r *RemoteRead) *time.Duration { return &r.RemoteTimeout }, DefaultRemoteReadTimeout,
			"How long one request may take."),
		withDefault("read_recent", boolean, func(r *RemoteRead) *bool { return &r.ReadRecent }, false,
			"Whether the remote store is read for the time the local store holds too; otherwise only for the time before its oldest sample."),
		field("required_matchers", strMap, func(r *RemoteRead) *map[string]string { return &r.RequiredMatchers },
			"Label name to value: only queries whose selectors have these equality matchers read the remote store."),
		withDefault("filter_external_labels", boolean, func(r *RemoteRead) *bool { return &r.FilterExternalLabels }, true,
			"Whether the external labels are added to the matchers sent and taken off the series received."),
	}, remoteReadClient.attrs...),
	children: remoteReadClient.blocks,
	check: func(s *scope, r *RemoteRead) {
		for _, name := range slices.Sorted(maps.Keys(r.RequiredMatchers)) {
			if !model.UTF8Validation.IsValidLabelName(name) {
				s.errorf("required_matchers", "Invalid label name", "%q in required_matchers is not a valid label name.", name)
			}
		}
		checkHTTPClient(s, "remote_read", r.Name, &r.HTTPClient)
	},
}

var queueSpec = &block[RemoteWriteQueue]{
	name: "queue", doc: "How samples are queued and sent, as Prometheus's queue_config.",
	attrs: []attr[RemoteWriteQueue]{
		withDefault("capacity", positive, func(q *RemoteWriteQueue) *int { return &q.Capacity }, DefaultRemoteWriteQueue.Capacity,
			"Samples each shard buffers before reading the log waits."),
		withDefault("min_shards", positive, func(q *RemoteWriteQueue) *int { return &q.MinShards }, DefaultRemoteWriteQueue.MinShards,
			"The fewest concurrent senders."),
		withDefault("max_shards", positive, func(q *RemoteWriteQueue) *int { return &q.MaxShards }, DefaultRemoteWriteQueue.MaxShards,
			"The most concurrent senders."),
		withDefault("max_samples_per_send", positive, func(q *RemoteWriteQueue) *int { return &q.MaxSamplesPerSend }, DefaultRemoteWriteQueue.MaxSamplesPerSend,
			"The most samples in one request."),
		withDefault("batch_send_deadline", duration[time.Duration](), func(q *RemoteWriteQueue) *time.Duration { return &q.BatchSendDeadline }, DefaultRemoteWriteQueue.BatchSendDeadline,
			"How long a sample may wait for its request to fill."),
		withDefault("min_backoff", duration[time.Duration](), func(q *RemoteWriteQueue) *time.Duration { return &q.MinBackoff }, DefaultRemoteWriteQueue.MinBackoff,
			"The first wait before a failed request is retried; it doubles at each retry."),
		withDefault("max_backoff", duration[time.Duration](), func(q *RemoteWriteQueue) *time.Duration { return &q.MaxBackoff }, DefaultRemoteWriteQueue.MaxBackoff,
			"The longest wait between retries."),
		withDefault("retry_on_http_429", boolean, func(q *RemoteWriteQueue) *bool { return &q.RetryOnHTTP429 }, false,
			"Whether a request answered 429 Too Many Requests is retried; otherwise its samples are dropped."),
	},
	check: func(s *scope, q *RemoteWriteQueue) {
		if !s.ok() {
			return
		}
		if q.MinShards > q.MaxShards {
			s.errorf("min_shards", "Invalid min_shards", "min_shards (%d) must not exceed max_shards (%d).", q.MinShards, q.MaxShards)
		}
		if q.MaxBackoff < q.MinBackoff {
			s.errorf("max_backoff", "Invalid max_backoff", "max_backoff (%s) must not be less than min_backoff (%s).", q.MaxBackoff, q.MinBackoff)
		}
	},
}

// remoteURL is an absolute http or https URL, which may have a query (some
// receivers take parameters there).
var remoteURL = codec[*url.URL]{
	typ: cty.String, kind: "URL",
	decode: func(at attrValue, v cty.Value) (*url.URL, bool) {
		s := v.AsString()
		u, err := url.Parse(s)
		switch {
		case err != nil:
			at.errorf("Invalid "+at.name(), "%q is not a URL: %v.", s, err)
		case u.Scheme != "http" && u.Scheme != "https":
			at.errorf("Invalid "+at.name(), "%q must start with http:// or https://.", s)
		case u.Host == "":
			at.errorf("Invalid "+at.name(), "%q has no host.", s)
		default:
			return u, true
		}
		return nil, false
	},
	render: func(u *url.URL, o renderOptions) cty.Value { return cty.StringVal(urlString(u, o)) },
}
