package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"runtime"
	"slices"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	amalert "github.com/vigilmon/vigil/core/alert"
	"github.com/vigilmon/vigil/core/tenant"
	"github.com/vigilmon/vigil/internal/diskguard"
)

// SilenceStore is what the Alertmanager API v2 reads and changes: the
// silences. core/alert.Silences is one.
type SilenceStore interface {
	// Set creates or updates a silence and returns its ID.
	Set(sil *amalert.Silence) (string, error)
	// Expire ends the silence with the given ID now.
	Expire(id string) error
	// Get returns the silence with the given ID.
	Get(id string) (*amalert.Silence, error)
	// Query returns the silences the filter selects.
	Query(f amalert.SilenceFilter) ([]*amalert.Silence, error)
}

// AMMatcher is a matcher of a silence in Alertmanager's API v2 shape.
type AMMatcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	// IsEqual is false for != and !~; absent means true.
	IsEqual *bool `json:"isEqual,omitempty"`
}

// AMSilenceStatus is the state of a silence: active, pending or expired.
type AMSilenceStatus struct {
	State string `json:"state"`
}

// PostableSilence is the body of POST /api/v2/silences: a new silence, or
// with an ID the update of that silence.
type PostableSilence struct {
	ID        string      `json:"id,omitempty"`
	Matchers  []AMMatcher `json:"matchers"`
	StartsAt  time.Time   `json:"startsAt"`
	EndsAt    time.Time   `json:"endsAt"`
	CreatedBy string      `json:"createdBy"`
	Comment   string      `json:"comment"`
}

// GettableSilence is a silence as GET /api/v2/silences answers it.
type GettableSilence struct {
	ID        string          `json:"id"`
	Status    AMSilenceStatus `json:"status"`
	UpdatedAt time.Time       `json:"updatedAt"`
	Matchers  []AMMatcher     `json:"matchers"`
	StartsAt  time.Time       `json:"startsAt"`
	EndsAt    time.Time       `json:"endsAt"`
	CreatedBy string          `json:"createdBy"`
	Comment   string          `json:"comment"`
}

// PostSilenceResponse is the answer to POST /api/v2/silences.
type PostSilenceResponse struct {
	SilenceID string `json:"silenceID"`
}

// amStatus is the answer to GET /api/v2/status.
type amStatus struct {
	Cluster     amClusterStatus `json:"cluster"`
	VersionInfo amVersionInfo   `json:"versionInfo"`
	Config      amConfig        `json:"config"`
	Uptime      time.Time       `json:"uptime"`
}

type amClusterStatus struct {
	Status string `json:"status"`
	Peers  []any  `json:"peers"`
}

type amVersionInfo struct {
	Branch    string `json:"branch"`
	BuildDate string `json:"buildDate"`
	BuildUser string `json:"buildUser"`
	GoVersion string `json:"goVersion"`
	Revision  string `json:"revision"`
	Version   string `json:"version"`
}

type amConfig struct {
	Original string `json:"original"`
}

// NewAMMatchers converts matchers to Alertmanager's API shape.
func NewAMMatchers(ms []*labels.Matcher) []AMMatcher {
	out := make([]AMMatcher, 0, len(ms))
	for _, m := range ms {
		isEqual := m.Type == labels.MatchEqual || m.Type == labels.MatchRegexp
		out = append(out, AMMatcher{
			Name:    m.Name,
			Value:   m.Value,
			IsRegex: m.Type == labels.MatchRegexp || m.Type == labels.MatchNotRegexp,
			IsEqual: &isEqual,
		})
	}
	return out
}

// LabelMatchers converts matchers in Alertmanager's API shape back.
func LabelMatchers(ms []AMMatcher) ([]*labels.Matcher, error) {
	out := make([]*labels.Matcher, 0, len(ms))
	for _, m := range ms {
		equal := m.IsEqual == nil || *m.IsEqual
		var typ labels.MatchType
		switch {
		case equal && !m.IsRegex:
			typ = labels.MatchEqual
		case equal && m.IsRegex:
			typ = labels.MatchRegexp
		case !m.IsRegex:
			typ = labels.MatchNotEqual
		default:
			typ = labels.MatchNotRegexp
		}
		lm, err := labels.NewMatcher(typ, m.Name, m.Value)
		if err != nil {
			return nil, fmt.Errorf("matcher %q: %w", m.Name, err)
		}
		out = append(out, lm)
	}
	return out, nil
}

// registerAlertmanager adds the Alertmanager API v2 endpoints to mux.
func (a *API) registerAlertmanager(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v2/silences", a.amWrap(a.getSilences))
	mux.HandleFunc("POST /api/v2/silences", a.amWrap(a.postSilence))
	mux.HandleFunc("GET /api/v2/silence/{id}", a.amWrap(a.getSilence))
	mux.HandleFunc("DELETE /api/v2/silence/{id}", a.amWrap(a.deleteSilence))
	mux.HandleFunc("GET /api/v2/status", a.amWrap(a.amStatus))
	mux.HandleFunc("GET /api/v2/alerts", a.amAlertsWrap(a.getAlerts))
	mux.HandleFunc("POST /api/v2/alerts", a.amAlertsWrap(a.postAlerts))
	mux.HandleFunc("GET /api/v2/alerts/groups", a.amAlertsWrap(a.getAlertGroups))
}

// amError is an error of the Alertmanager API with its status code; its
// message is the body, as a JSON string, as Alertmanager answers.
type amError struct {
	status int
	msg    string
}

type amHandler func(r *http.Request) (any, *amError)

// amWrap writes a handler's result in Alertmanager's way: the value as
// JSON, or the error message as a JSON string; a nil value is an empty
// 200 answer.
func (a *API) amWrap(h amHandler) http.HandlerFunc {
	return a.amServe(func() bool { return a.src.Silences != nil }, h)
}

// amAlertsWrap is amWrap for the endpoints of the current alerts.
func (a *API) amAlertsWrap(h amHandler) http.HandlerFunc {
	return a.amServe(func() bool { return a.src.Alerts != nil }, h)
}

// Bounds of request bodies of the Alertmanager API: any, and that of a
// silence.
const (
	maxAMBodyBytes  = maxPostedAlertsBytes
	maxSilenceBytes = 1 << 20
)

// requireJSON refuses a body that is not JSON by its Content-Type, with
// 415, as Alertmanager does. Web pages of other origins can send text,
// forms and multipart bodies without asking, JSON not.
func requireJSON(r *http.Request) *amError {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return &amError{http.StatusUnsupportedMediaType, fmt.Sprintf("unsupported Content-Type %q: the body must be JSON, application/json", ct)}
	}
	return nil
}

// decodeError is the answer to a body that cannot be decoded as what: 413
// when it exceeds its limit, 400 otherwise.
func decodeError(what string, err error) *amError {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return &amError{http.StatusRequestEntityTooLarge, fmt.Sprintf("cannot decode %s: the request body exceeds the limit of %d bytes", what, tooLarge.Limit)}
	}
	return &amError{http.StatusBadRequest, fmt.Sprintf("cannot decode %s: %v", what, err)}
}

// amServe writes h's result as amWrap does, or 503 when configured says
// the source h reads is missing. It bounds the request body.
func (a *API) amServe(configured func() bool, h amHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxAMBodyBytes)
		var (
			data   any
			apiErr *amError
		)
		if !configured() {
			apiErr = &amError{http.StatusServiceUnavailable, "alerting is not configured"}
		} else {
			data, apiErr = h(r)
		}
		status := http.StatusOK
		if apiErr != nil {
			status, data = apiErr.status, apiErr.msg
			if status >= 500 {
				a.src.Logger.Error("Alertmanager API request failed", "path", r.URL.Path, "error", apiErr.msg)
			}
		}
		if data == nil {
			w.WriteHeader(status)
			return
		}
		b, err := json.Marshal(data)
		if err != nil {
			a.src.Logger.Error("cannot encode an API response", "error", err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(b)
	}
}

// silenceError maps an error of the silence store to a status code.
func silenceError(err error) *amError {
	switch {
	case errors.Is(err, amalert.ErrSilenceNotFound):
		return &amError{http.StatusNotFound, err.Error()}
	case errors.Is(err, amalert.ErrInvalidSilence):
		return &amError{http.StatusBadRequest, err.Error()}
	case errors.Is(err, amalert.ErrStoreClosed), errors.Is(err, diskguard.ErrDiskFull):
		return &amError{http.StatusServiceUnavailable, err.Error()}
	}
	return &amError{http.StatusInternalServerError, err.Error()}
}

func gettableSilence(sil *amalert.Silence, now time.Time) GettableSilence {
	return GettableSilence{
		ID:        sil.ID,
		Status:    AMSilenceStatus{State: string(sil.State(now))},
		UpdatedAt: sil.UpdatedAt,
		Matchers:  NewAMMatchers(sil.Matchers),
		StartsAt:  sil.StartsAt,
		EndsAt:    sil.EndsAt,
		CreatedBy: sil.CreatedBy,
		Comment:   sil.Comment,
	}
}

// getSilences answers GET /api/v2/silences: the silences whose matchers
// satisfy the filter= matchers, sorted as Alertmanager sorts them: active
// ones by end time, then pending ones by start time, then expired ones,
// the latest ended first.
func (a *API) getSilences(r *http.Request) (any, *amError) {
	var filter []*labels.Matcher
	for _, s := range r.URL.Query()["filter"] {
		ms, err := amalert.ParseMatchers(s)
		if err != nil {
			return nil, &amError{http.StatusBadRequest, fmt.Sprintf("bad matcher format: %v", err)}
		}
		filter = append(filter, ms...)
	}
	now := time.Now()
	sils, err := a.src.Silences.Query(amalert.SilenceFilter{Matchers: filter, Now: now})
	if err != nil {
		return nil, silenceError(err)
	}
	out := make([]GettableSilence, 0, len(sils))
	confined := tenant.MatchersOf(r.Context())
	for _, sil := range sils {
		if tenant.OwnsSilence(confined, sil.Matchers) {
			out = append(out, gettableSilence(sil, now))
		}
	}
	rank := map[string]int{string(amalert.SilenceStateActive): 0, string(amalert.SilenceStatePending): 1, string(amalert.SilenceStateExpired): 2}
	slices.SortStableFunc(out, func(x, y GettableSilence) int {
		if c := rank[x.Status.State] - rank[y.Status.State]; c != 0 {
			return c
		}
		switch x.Status.State {
		case string(amalert.SilenceStateActive):
			return x.EndsAt.Compare(y.EndsAt)
		case string(amalert.SilenceStatePending):
			return x.StartsAt.Compare(y.StartsAt)
		default:
			return y.EndsAt.Compare(x.EndsAt)
		}
	})
	return out, nil
}

// postSilence answers POST /api/v2/silences: it creates or updates a
// silence and returns its ID, a new one when the store had to replace it.
func (a *API) postSilence(r *http.Request) (any, *amError) {
	if err := requireJSON(r); err != nil {
		return nil, err
	}
	var ps PostableSilence
	// amServe's limit on the body, for alerts, is larger: the silence has
	// its own. Its reader tells the server already when a body is too
	// large, so this one needs no ResponseWriter.
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxSilenceBytes))
	if err := dec.Decode(&ps); err != nil {
		return nil, decodeError("the silence", err)
	}
	ms, err := LabelMatchers(ps.Matchers)
	if err != nil {
		return nil, &amError{http.StatusBadRequest, fmt.Sprintf("invalid silence: %v", err)}
	}
	if !ps.StartsAt.Before(ps.EndsAt) {
		return nil, &amError{http.StatusBadRequest, "Failed to create silence: start time must be before end time"}
	}
	if ps.EndsAt.Before(time.Now()) {
		return nil, &amError{http.StatusBadRequest, "Failed to create silence: end time can't be in the past"}
	}
	if confined := tenant.MatchersOf(r.Context()); confined != nil {
		// A tenant's silence gets the tenant's matchers, so that it mutes
		// the tenant's alerts only; it may update its own silences only.
		if ps.ID != "" {
			if _, err := a.ownSilence(r, ps.ID); err != nil {
				return nil, err
			}
		}
		ms = tenant.ConfineSilence(confined, ms)
	}
	id, err := a.src.Silences.Set(&amalert.Silence{
		ID:        ps.ID,
		Matchers:  ms,
		StartsAt:  ps.StartsAt,
		EndsAt:    ps.EndsAt,
		CreatedBy: ps.CreatedBy,
		Comment:   ps.Comment,
	})
	if err != nil {
		return nil, silenceError(err)
	}
	return PostSilenceResponse{SilenceID: id}, nil
}

// getSilence answers GET /api/v2/silence/{id}.
func (a *API) getSilence(r *http.Request) (any, *amError) {
	sil, err := a.ownSilence(r, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return gettableSilence(sil, time.Now()), nil
}

// ownSilence returns the silence with the given ID, when the request may
// see it: a request confined to a tenant sees only the tenant's
// silences, and is answered 404 for the others, as if they did not exist.
func (a *API) ownSilence(r *http.Request, id string) (*amalert.Silence, *amError) {
	sil, err := a.src.Silences.Get(id)
	if err != nil {
		return nil, silenceError(err)
	}
	if !tenant.OwnsSilence(tenant.MatchersOf(r.Context()), sil.Matchers) {
		return nil, silenceError(fmt.Errorf("silence %s: %w", id, amalert.ErrSilenceNotFound))
	}
	return sil, nil
}

// deleteSilence answers DELETE /api/v2/silence/{id}: it expires the
// silence now. Expiring an expired silence is a bad request.
func (a *API) deleteSilence(r *http.Request) (any, *amError) {
	id := r.PathValue("id")
	if _, err := a.ownSilence(r, id); err != nil {
		return nil, err
	}
	if err := a.src.Silences.Expire(id); err != nil {
		if e := silenceError(err); e.status != http.StatusInternalServerError {
			return nil, e
		}
		if _, gerr := a.src.Silences.Get(id); gerr == nil {
			// The silence exists: it cannot be expired again.
			return nil, &amError{http.StatusBadRequest, err.Error()}
		}
		return nil, silenceError(err)
	}
	return nil, nil
}

// amStatus answers GET /api/v2/status: no cluster, the version, the
// alerting configuration in effect as Alertmanager's YAML (what amtool's
// config commands parse; /api/v1/status/config has the HCL), and the
// start time.
func (a *API) amStatus(*http.Request) (any, *amError) {
	original := ""
	if a.src.Config != nil {
		if cfg := a.src.Config(); cfg != nil {
			text, err := cfg.AlertmanagerYAML()
			if err != nil {
				return nil, &amError{status: http.StatusInternalServerError, msg: err.Error()}
			}
			original = string(text)
		}
	}
	return amStatus{
		Cluster:     amClusterStatus{Status: "disabled", Peers: []any{}},
		VersionInfo: amVersionInfo{GoVersion: runtime.Version(), Version: a.src.Version, Revision: a.src.Revision},
		Config:      amConfig{Original: original},
		Uptime:      a.start,
	}, nil
}

// The store's silences are a SilenceStore.
var _ SilenceStore = (*amalert.Silences)(nil)
