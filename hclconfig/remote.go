package hclconfig

import (
	"maps"
	"net/url"
	"slices"
	"strings"
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
	RemoteClient
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
	RemoteClient
	Range hcl.Range
}

// RemoteClient is the HTTP client of a remote_write or remote_read block:
// the headers of its requests, their authentication and TLS.
type RemoteClient struct {
	// Headers are added to every request.
	Headers map[string]string
	// BearerToken, BasicAuth and OAuth2 authenticate the requests; one at
	// most.
	BearerToken Secret
	BasicAuth   *BasicAuth
	OAuth2      *OAuth2
	TLS         *TLS
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

// OAuth2 is an `oauth2` block: the client credentials flow, as
// Prometheus's oauth2.
type OAuth2 struct {
	ClientID       string
	ClientSecret   Secret
	TokenURL       *url.URL
	Scopes         []string
	EndpointParams map[string]string
}

// reservedHeaders are the headers a remote_write block may not set, as in
// Prometheus: the client sets them, or authentication does.
var reservedHeaders = []string{
	"authorization", "host", "content-encoding", "content-length", "content-type", "user-agent",
	"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "www-authenticate",
	"accept-encoding", "x-prometheus-remote-write-version", "x-prometheus-remote-read-version",
	"x-amz-date", "x-amz-security-token", "x-amz-content-sha256",
}

// remoteClientSpec describes the RemoteClient of blocks of type T: the
// headers and bearer_token attributes, and the blocks of authentication
// and TLS.
type remoteClientSpec[T any] struct {
	headers, bearerToken attr[T]
	blocks               []child[T]
}

// remoteClient describes the RemoteClient that client returns of a block.
func remoteClient[T any](client func(*T) *RemoteClient) remoteClientSpec[T] {
	return remoteClientSpec[T]{
		headers: field("headers", strMap, func(t *T) *map[string]string { return &client(t).Headers },
			"Headers added to every request, such as X-Scope-OrgID; not Authorization."),
		bearerToken: field("bearer_token", secret, func(t *T) *Secret { return &client(t).BearerToken },
			"A token sent as Authorization: Bearer; not with basic_auth or oauth2."),
		blocks: []child[T]{
			optional[T, BasicAuth]{spec: basicAuthSpec.named("basic_auth", "Basic authentication of the requests; not with bearer_token or oauth2."),
				ptr: func(t *T) **BasicAuth { return &client(t).BasicAuth }},
			optional[T, OAuth2]{spec: oauth2Spec, ptr: func(t *T) **OAuth2 { return &client(t).OAuth2 }},
			optional[T, TLS]{spec: tlsSpec.named("tls", "TLS settings of an https URL."), ptr: func(t *T) **TLS { return &client(t).TLS }},
		},
	}
}

// checkRemoteClient checks what the client of block kind NAME cannot
// check alone: no reserved header, and one authentication at most.
func checkRemoteClient(s *scope, kind, name string, c *RemoteClient) {
	names := slices.Sorted(maps.Keys(c.Headers))
	for _, h := range names {
		if slices.Contains(reservedHeaders, strings.ToLower(h)) {
			s.errorf("headers", "Reserved header", "Header %q is set by Vigil or by the authentication settings; a %s block must not set it.", h, kind)
		}
	}
	var auth []string
	if c.BearerToken != "" {
		auth = append(auth, "bearer_token")
	}
	if c.BasicAuth != nil {
		auth = append(auth, "basic_auth")
	}
	if c.OAuth2 != nil {
		auth = append(auth, "oauth2")
	}
	if len(auth) > 1 {
		s.blockErrorf("Conflicting authentication", "%s %q sets %s; choose one.", kind, name, strings.Join(auth, " and "))
	}
}

var remoteWriteClient = remoteClient(func(r *RemoteWrite) *RemoteClient { return &r.RemoteClient })

var remoteWriteSpec = &block[RemoteWrite]{
	name: "remote_write", label: "NAME", doc: "A receiver the samples are sent to as they are stored; NAME names its queue.",
	labelOf: func(r *RemoteWrite) *string { return &r.Name },
	rangeOf: func(r *RemoteWrite) *hcl.Range { return &r.Range },
	attrs: []attr[RemoteWrite]{
		field("url", remoteURL, func(r *RemoteWrite) **url.URL { return &r.URL },
			"Where the samples are posted, such as https://mimir.example.com/api/v1/push.").require(),
		withDefault("protobuf_message", str, func(r *RemoteWrite) *string { return &r.ProtobufMessage }, RemoteWriteV1,
			"\""+RemoteWriteV1+"\" (Remote-Write 1.0) or \""+RemoteWriteV2+"\" (2.0)."),
		withDefault("remote_timeout", duration[time.Duration](), func(r *RemoteWrite) *time.Duration { return &r.RemoteTimeout }, DefaultRemoteTimeout,
			"How long one request may take."),
		remoteWriteClient.headers,
		withDefault("send_exemplars", boolean, func(r *RemoteWrite) *bool { return &r.SendExemplars }, false,
			"Whether exemplars are sent."),
		withDefault("send_native_histograms", boolean, func(r *RemoteWrite) *bool { return &r.SendNativeHistograms }, false,
			"Whether native histograms are sent."),
		remoteWriteClient.bearerToken,
	},
	children: append(slices.Clone(remoteWriteClient.blocks),
		nested[RemoteWrite, RemoteWriteQueue]{spec: queueSpec, ptr: func(r *RemoteWrite) *RemoteWriteQueue { return &r.Queue }},
		listOf(func(r *RemoteWrite) *[]*relabel.Config { return &r.WriteRelabel },
			relabelSpec.named("write_relabel", "A relabeling of each sample's labels before it is sent; any number, in order.")),
	),
	check: func(s *scope, r *RemoteWrite) {
		if r.ProtobufMessage != RemoteWriteV1 && r.ProtobufMessage != RemoteWriteV2 {
			s.errorf("protobuf_message", "Invalid protobuf_message", "protobuf_message must be %q or %q, not %q.", RemoteWriteV1, RemoteWriteV2, r.ProtobufMessage)
		}
		checkRemoteClient(s, "remote_write", r.Name, &r.RemoteClient)
	},
}

var remoteReadClient = remoteClient(func(r *RemoteRead) *RemoteClient { return &r.RemoteClient })

var remoteReadSpec = &block[RemoteRead]{
	name: "remote_read", label: "NAME", doc: "Another store the queries read beside the local one; NAME names it in logs and errors.",
	labelOf: func(r *RemoteRead) *string { return &r.Name },
	rangeOf: func(r *RemoteRead) *hcl.Range { return &r.Range },
	attrs: []attr[RemoteRead]{
		field("url", remoteURL, func(r *RemoteRead) **url.URL { return &r.URL },
			"Where remote reads are posted, such as http://prometheus.example.com:9090/api/v1/read.").require(),
		withDefault("remote_timeout", duration[time.Duration](), func(r *RemoteRead) *time.Duration { return &r.RemoteTimeout }, DefaultRemoteReadTimeout,
			"How long one request may take."),
		remoteReadClient.headers,
		withDefault("read_recent", boolean, func(r *RemoteRead) *bool { return &r.ReadRecent }, false,
			"Whether the remote store is read for the time the local store holds too; otherwise only for the time before its oldest sample."),
		field("required_matchers", strMap, func(r *RemoteRead) *map[string]string { return &r.RequiredMatchers },
			"Label name to value: only queries whose selectors have these equality matchers read the remote store."),
		withDefault("filter_external_labels", boolean, func(r *RemoteRead) *bool { return &r.FilterExternalLabels }, true,
			"Whether the external labels are added to the matchers sent and taken off the series received."),
		remoteReadClient.bearerToken,
	},
	children: remoteReadClient.blocks,
	check: func(s *scope, r *RemoteRead) {
		for _, name := range slices.Sorted(maps.Keys(r.RequiredMatchers)) {
			if !model.UTF8Validation.IsValidLabelName(name) {
				s.errorf("required_matchers", "Invalid label name", "%q in required_matchers is not a valid label name.", name)
			}
		}
		checkRemoteClient(s, "remote_read", r.Name, &r.RemoteClient)
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

var oauth2Spec = &block[OAuth2]{
	name: "oauth2", doc: "OAuth 2.0 client credentials for the requests; not with bearer_token or basic_auth.",
	attrs: []attr[OAuth2]{
		field("client_id", str, func(o *OAuth2) *string { return &o.ClientID }, "The client ID.").require(),
		field("client_secret", secret, func(o *OAuth2) *Secret { return &o.ClientSecret }, "The client secret."),
		field("token_url", httpURL("Invalid token_url"), func(o *OAuth2) **url.URL { return &o.TokenURL }, "Where tokens are fetched.").require(),
		field("scopes", strList, func(o *OAuth2) *[]string { return &o.Scopes }, "The scopes asked for."),
		field("endpoint_params", strMap, func(o *OAuth2) *map[string]string { return &o.EndpointParams }, "Parameters added to the token request."),
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
