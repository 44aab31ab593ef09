package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/util/annotations"
)

// Admin is what the admin endpoints change; *tsdb.DB is one.
type Admin interface {
	Delete(ctx context.Context, mint, maxt int64, ms ...*labels.Matcher) error
	CleanTombstones() error
	Snapshot(dir string, skipHead bool) error
}

// registerAdmin adds the admin endpoints; without an Admin they answer
// that they are disabled, as Prometheus does.
func (a *API) registerAdmin(mux Mux) {
	for _, method := range []string{http.MethodPost, http.MethodPut} {
		mux.HandleFunc(method+" /api/v1/admin/tsdb/delete_series", a.wrap(a.deleteSeries))
		mux.HandleFunc(method+" /api/v1/admin/tsdb/clean_tombstones", a.wrap(a.cleanTombstones))
		mux.HandleFunc(method+" /api/v1/admin/tsdb/snapshot", a.wrap(a.snapshot))
	}
}

var errAdminDisabled = &apiError{errorUnavailable, errors.New("admin APIs disabled")}

// noContent marks a success without data, answered with 204.
type noContent struct{}

func (a *API) deleteSeries(r *http.Request) (any, annotations.Annotations, *apiError) {
	if a.src.Admin == nil {
		return nil, nil, errAdminDisabled
	}
	sets, mint, maxt, err := a.selection(r, true)
	if err != nil {
		return nil, nil, err
	}
	for _, ms := range sets {
		if err := a.src.Admin.Delete(r.Context(), mint, maxt, ms...); err != nil {
			return nil, nil, &apiError{errorInternal, err}
		}
	}
	return noContent{}, nil, nil
}

func (a *API) cleanTombstones(*http.Request) (any, annotations.Annotations, *apiError) {
	if a.src.Admin == nil {
		return nil, nil, errAdminDisabled
	}
	if err := a.src.Admin.CleanTombstones(); err != nil {
		return nil, nil, &apiError{errorInternal, err}
	}
	return noContent{}, nil, nil
}

func (a *API) snapshot(r *http.Request) (any, annotations.Annotations, *apiError) {
	if a.src.Admin == nil {
		return nil, nil, errAdminDisabled
	}
	skipHead := false
	if v := r.FormValue("skip_head"); v != "" {
		var err error
		if skipHead, err = strconv.ParseBool(v); err != nil {
			return nil, nil, badData("cannot parse skip_head %q: want true or false", v)
		}
	}
	random := make([]byte, 8)
	if _, err := rand.Read(random); err != nil {
		return nil, nil, &apiError{errorInternal, err}
	}
	name := fmt.Sprintf("%s-%s", time.Now().UTC().Format("20060102T150405Z0700"), hex.EncodeToString(random))
	if err := a.src.Admin.Snapshot(filepath.Join(a.src.SnapshotDir, name), skipHead); err != nil {
		return nil, nil, &apiError{errorInternal, err}
	}
	return map[string]string{"name": name}, nil, nil
}
