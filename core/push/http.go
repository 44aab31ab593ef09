package push

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/golang/snappy"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/route"
	apiv1 "github.com/prometheus/pushgateway/api/v1"
	"github.com/prometheus/pushgateway/handler"
	"google.golang.org/protobuf/encoding/protodelim"

	"github.com/vigilmon/vigil/internal/hclogslog"
)

// HandlerOptions say how a Handler serves a Store.
type HandlerOptions struct {
	// MaxBodyBytes is the largest body of a push, once uncompressed; a
	// larger one is answered 413. 0 means no limit.
	MaxBodyBytes int64
	// EnableWipe serves PUT /api/v1/admin/wipe, as the Pushgateway does
	// with --web.enable-admin-api.
	EnableWipe bool
	// SpaceCheck, when set, says whether the store may grow on disk: a
	// push it refuses is answered 503 with its error, unread. Deletes
	// are still served.
	SpaceCheck func() error
	// Logger receives the handler's log lines; none when nil.
	Logger hclog.Logger
}

// Handler serves a Store over the Pushgateway's HTTP API.
type Handler struct {
	store  *Store
	opts   HandlerOptions
	logger hclog.Logger
	now    func() time.Time
}

// NewHandler returns a Handler of store.
func NewHandler(store *Store, opts HandlerOptions) *Handler {
	logger := opts.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Handler{store: store, opts: opts, logger: logger, now: store.opts.Now}
}

// Register adds the endpoints to mux:
//   - PUT, POST and DELETE on /metrics/job/<JOB>{/<LABEL>/<VALUE>} and
//     /metrics/job@base64/<JOB>{/<LABEL>/<VALUE>}: push and delete groups;
//   - GET /api/v1/metrics: the groups in the Pushgateway's JSON;
//   - GET /push/metrics: the groups as the Pushgateway exposes them on its
//     /metrics, for another Prometheus to scrape with honor_labels;
//   - PUT /api/v1/admin/wipe, with EnableWipe: delete every group.
func (h *Handler) Register(mux *http.ServeMux) {
	for _, prefix := range []string{"/metrics/job/", "/metrics/job" + handler.Base64Suffix + "/"} {
		mux.HandleFunc("PUT "+prefix, h.push(true))
		mux.HandleFunc("POST "+prefix, h.push(false))
		mux.HandleFunc("DELETE "+prefix, h.delete)
	}
	api := apiv1.New(hclogslog.New(h.logger.Named("api")), h.store, nil, nil)
	router := route.New()
	api.Register(router)
	mux.Handle("GET /api/v1/metrics", http.StripPrefix("/api/v1", router))
	if h.opts.EnableWipe {
		mux.HandleFunc("PUT /api/v1/admin/wipe", h.wipe)
	}
	gatherer := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return h.store.Families(), nil })
	mux.Handle("GET /push/metrics", promhttp.HandlerFor(prometheus.Gatherers{gatherer}, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(hclogslog.New(h.logger).Handler(), slog.LevelError),
	}))
}

// push answers PUT (replace) and POST pushes with the Pushgateway's
// status codes and error texts.
func (h *Handler) push(replace bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		grouping, err := groupingOf(r.URL.Path)
		if err != nil {
			h.refuse(w, r, err.Error(), http.StatusBadRequest)
			return
		}
		if h.opts.SpaceCheck != nil {
			if err := h.opts.SpaceCheck(); err != nil {
				h.refuse(w, r, fmt.Sprintf("cannot store the push: %v", err), http.StatusServiceUnavailable)
				return
			}
		}
		body, status, err := h.readBody(r)
		if err != nil {
			h.refuse(w, r, err.Error(), status)
			return
		}
		families, err := parseBody(body, r.Header.Get("Content-Type"))
		if err != nil {
			h.refuse(w, r, err.Error(), http.StatusBadRequest)
			return
		}
		switch err := h.store.Push(grouping, families, replace, h.now()); {
		case errors.Is(err, ErrInvalid):
			// The Pushgateway's text: ErrInvalid's, then the cause.
			h.refuse(w, r, err.Error(), http.StatusBadRequest)
		case errors.Is(err, ErrTooManyGroups):
			h.refuse(w, r, err.Error(), http.StatusBadRequest)
		case err != nil:
			h.refuse(w, r, err.Error(), http.StatusInternalServerError)
		}
	}
}

// delete answers DELETE with 202, as the Pushgateway does.
func (h *Handler) delete(w http.ResponseWriter, r *http.Request) {
	grouping, err := groupingOf(r.URL.Path)
	if err != nil {
		h.refuse(w, r, err.Error(), http.StatusBadRequest)
		return
	}
	if err := h.store.Delete(grouping); err != nil {
		h.refuse(w, r, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// wipe deletes every group and answers 202, as the Pushgateway does.
func (h *Handler) wipe(w http.ResponseWriter, r *http.Request) {
	if err := h.store.Wipe(); err != nil {
		h.refuse(w, r, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, msg string, status int) {
	if status >= 500 {
		h.logger.Error("push failed", "method", r.Method, "path", r.URL.Path, "source", r.RemoteAddr, "error", msg)
	} else {
		h.logger.Debug("push refused", "method", r.Method, "path", r.URL.Path, "source", r.RemoteAddr, "error", msg)
	}
	http.Error(w, msg, status)
}

// readBody reads the body of a push, uncompressed as its Content-Encoding
// says (gzip or snappy, as the Pushgateway takes them), within the limit.
// The status is the one to answer an error with.
func (h *Handler) readBody(r *http.Request) ([]byte, int, error) {
	var in io.Reader = r.Body
	switch enc := strings.ToLower(r.Header.Get("Content-Encoding")); enc {
	case "gzip":
		gr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, http.StatusBadRequest, err
		}
		defer gr.Close()
		in = gr
	case "snappy":
		in = snappy.NewReader(r.Body)
	}
	limit := h.opts.MaxBodyBytes
	if limit > 0 {
		in = io.LimitReader(in, limit+1)
	}
	body, err := io.ReadAll(in)
	if err != nil {
		return nil, http.StatusBadRequest, fmt.Errorf("cannot read the pushed body: %w", err)
	}
	if limit > 0 && int64(len(body)) > limit {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("the pushed body is larger than the limit of %d bytes (server { push_body_size_limit })", limit)
	}
	return body, 0, nil
}

// parseBody parses a push as the Pushgateway does: the delimited protobuf
// format when the Content-Type says so, else the text format.
func parseBody(body []byte, contentType string) (map[string]*dto.MetricFamily, error) {
	mediatype, params, err := mime.ParseMediaType(contentType)
	if err == nil && mediatype == "application/vnd.google.protobuf" &&
		params["encoding"] == "delimited" && params["proto"] == "io.prometheus.client.MetricFamily" {
		families := map[string]*dto.MetricFamily{}
		in := bufio.NewReader(bytes.NewReader(body))
		// No message is longer than the body: a size claiming more would
		// have UnmarshalFrom allocate it before finding the body short.
		opts := protodelim.UnmarshalOptions{MaxSize: int64(len(body))}
		for {
			mf := &dto.MetricFamily{}
			if err := opts.UnmarshalFrom(in, mf); err != nil {
				if errors.Is(err, io.EOF) {
					return families, nil
				}
				return nil, err
			}
			families[mf.GetName()] = mf
		}
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	return parser.TextToMetricFamilies(bytes.NewReader(body))
}

// groupingOf returns the grouping labels of a push URL's path,
// /metrics/job/<JOB>{/<LABEL>/<VALUE>} or the same with job@base64, with
// the Pushgateway's error texts.
func groupingOf(path string) (map[string]string, error) {
	rest, jobBase64 := strings.CutPrefix(path, "/metrics/job"+handler.Base64Suffix+"/")
	if !jobBase64 {
		rest = strings.TrimPrefix(path, "/metrics/job/")
	}
	job, labelsString, _ := strings.Cut(rest, "/")
	if jobBase64 {
		decoded, err := decodeBase64(job)
		if err != nil {
			return nil, fmt.Errorf("invalid base64 encoding in job name %q: %v", job, err)
		}
		job = decoded
	}
	grouping, err := splitLabels("/" + labelsString)
	if err != nil {
		return nil, err
	}
	if job == "" {
		return nil, errors.New("job name is required")
	}
	grouping[model.JobLabel] = job
	return grouping, nil
}

// decodeBase64 decodes the URL-safe base64 of RFC 4648, its '=' padding
// optional, as the Pushgateway does.
func decodeBase64(s string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	return string(b), err
}

// splitLabels reads the /<LABEL>/<VALUE> pairs after the job, a label
// name ending in @base64 marking its value as base64, with the
// Pushgateway's checks and error texts.
func splitLabels(labels string) (map[string]string, error) {
	result := map[string]string{}
	if len(labels) <= 1 {
		return result, nil
	}
	components := strings.Split(labels[1:], "/")
	if len(components)%2 != 0 {
		return nil, fmt.Errorf("odd number of components in label string %q", labels)
	}
	for i := 0; i < len(components)-1; i += 2 {
		name, value := components[i], components[i+1]
		trimmed := strings.TrimSuffix(name, handler.Base64Suffix)
		if !model.LegacyValidation.IsValidLabelName(trimmed) || strings.HasPrefix(trimmed, model.ReservedLabelPrefix) {
			return nil, fmt.Errorf("improper label name %q", trimmed)
		}
		if name == trimmed {
			result[trimmed] = value
			continue
		}
		decoded, err := decodeBase64(value)
		if err != nil {
			return nil, fmt.Errorf("invalid base64 encoding for label %s=%q: %v", trimmed, value, err)
		}
		result[trimmed] = decoded
	}
	return result, nil
}
