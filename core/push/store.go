// Package push is Vigil's Pushgateway: batch jobs push metric groups to
// it over the Pushgateway's HTTP API, it keeps them in a badger database of
// its own, and the scrape manager collects them as it would scrape a
// Pushgateway with honor_labels. Start with Open (store.go), then Handler
// (http.go); FORMAT.md says how a group is kept on disk.
//
// The semantics are the Pushgateway's (github.com/prometheus/pushgateway,
// whose types and JSON API this package reuses): a group is named by its
// grouping key, the job label and the labels of the push URL; PUT
// replaces the whole group, POST the metric families of the same names,
// DELETE removes the group. Every group carries push_time_seconds and
// push_failure_time_seconds. A push whose metrics carry timestamps, or
// that would make the groups together inconsistent (a family of two types,
// a series twice), is refused and only sets push_failure_time_seconds.
// Beyond the Pushgateway, a group may expire after a time to live, and the
// number of groups may be limited.
package push

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"github.com/prometheus/pushgateway/storage"
	"google.golang.org/protobuf/proto"

	"github.com/vigilmon/vigil/internal/atrest"
	"github.com/vigilmon/vigil/internal/smallkv"
)

// The metrics every group carries, with the Pushgateway's names and help.
const (
	pushMetricName       = "push_time_seconds"
	pushMetricHelp       = "Last Unix time when changing this group in the Pushgateway succeeded."
	pushFailedMetricName = "push_failure_time_seconds"
	pushFailedMetricHelp = "Last Unix time when changing this group in the Pushgateway failed."
)

// ErrInvalid marks a push that is refused because its metrics carry
// timestamps or would make the groups inconsistent; the Pushgateway
// answers it with 400 and records the failure in the group.
var ErrInvalid = errors.New("pushed metrics are invalid or inconsistent with existing metrics")

// ErrTooManyGroups marks a push that would add a group beyond
// Options.MaxGroups.
var ErrTooManyGroups = errors.New("too many groups")

// errTimestamp is the Pushgateway's error for metrics with timestamps.
var errTimestamp = errors.New("pushed metrics must not have timestamps")

// Options say how to open a Store.
type Options struct {
	// Dir is the folder of the store's badger database; required.
	Dir string
	// TTL, when positive, is how long a group lives after its last
	// successful push: then it is gone, as if deleted.
	TTL time.Duration
	// MaxGroups, when positive, is how many groups the store holds at
	// most; a push that would add one more is refused.
	MaxGroups int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives the store's log lines; none when nil.
	Logger hclog.Logger
	// EncryptionKey, when set, encrypts the store's files (see package
	// atrest).
	EncryptionKey []byte
}

// Store keeps the pushed groups in memory and in badger. All its methods
// are safe to call concurrently. A group, once stored, is never changed:
// a push stores a new one, so readers may keep what they got.
type Store struct {
	kv     *badger.DB
	opts   Options
	logger hclog.Logger

	mu     sync.RWMutex
	groups storage.GroupingKeyToMetricGroup // by grouping key
}

// Store is a MetricStore of the Pushgateway, so that its handlers and
// JSON API can serve it.
var _ storage.MetricStore = (*Store)(nil)

// Open opens the store in opts.Dir, creating it if needed, and loads the
// groups it holds.
func Open(opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create the push store's folder %q: %w", opts.Dir, err)
	}
	// A few thousand groups of a few kilobytes at most: small tables, no
	// block cache. A push is answered once its group is synced to disk.
	bopts := atrest.Encrypt(smallkv.Options(opts.Dir, logger, true), opts.EncryptionKey, smallkv.EncryptedCacheBytes)
	kv, err := badger.Open(bopts)
	if err != nil {
		return nil, atrest.OpenError(err, "push store", opts.Dir)
	}
	s := &Store{kv: kv, opts: opts, logger: logger, groups: storage.GroupingKeyToMetricGroup{}}
	if err := s.load(); err != nil {
		kv.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the badger database. The store must not be used
// afterwards.
func (s *Store) Close() error {
	if err := s.kv.Close(); err != nil {
		return fmt.Errorf("cannot close the push store: %w", err)
	}
	return nil
}

// Push stores the families under the grouping labels, as the
// Pushgateway does: with replace (PUT) they become the whole group, else
// (POST) they replace the families of the same names. at is the time of
// the push. The families are changed: they get the grouping labels and an
// instance label. A push that is refused for its content wraps ErrInvalid
// and sets the group's push_failure_time_seconds; one beyond MaxGroups
// wraps ErrTooManyGroups; any other error is the disk's.
func (s *Store) Push(grouping map[string]string, families map[string]*dto.MetricFamily, replace bool, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.expireLocked(); err != nil {
		return err
	}
	key := groupingKeyFor(grouping)
	old, exists := s.groups[key]
	if timestampsPresent(families) {
		return errors.Join(fmt.Errorf("%w: %w", ErrInvalid, errTimestamp), s.failLocked(key, grouping, at))
	}
	for _, mf := range families {
		sanitizeLabels(mf, grouping)
	}
	if !exists && s.opts.MaxGroups > 0 && len(s.groups) >= s.opts.MaxGroups {
		return fmt.Errorf("%w: the push store holds %d groups, its limit; delete one or raise server { push_max_groups }", ErrTooManyGroups, len(s.groups))
	}
	next := MetricGroupOf(grouping)
	if exists {
		for name, tmf := range old.Metrics {
			if !replace || name == pushMetricName || name == pushFailedMetricName {
				next.Metrics[name] = tmf
			}
		}
	}
	for name, mf := range families {
		next.Metrics[name] = storage.TimestampedMetricFamily{Timestamp: at, GobbableMetricFamily: (*storage.GobbableMetricFamily)(mf)}
	}
	next.Metrics[pushMetricName] = timestamped(timestampGauge(pushMetricName, pushMetricHelp, grouping, at), at)
	if _, ok := next.Metrics[pushFailedMetricName]; !ok {
		next.Metrics[pushFailedMetricName] = timestamped(timestampGauge(pushFailedMetricName, pushFailedMetricHelp, grouping, time.Time{}), at)
	}
	if err := s.checkLocked(key, next); err != nil {
		return errors.Join(fmt.Errorf("%w: %w", ErrInvalid, err), s.failLocked(key, grouping, at))
	}
	return s.storeLocked(key, next)
}

// Delete removes the group of the grouping labels, if there is one.
func (s *Store) Delete(grouping map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.expireLocked(); err != nil {
		return err
	}
	return s.deleteLocked(groupingKeyFor(grouping))
}

// Wipe removes every group.
func (s *Store) Wipe() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key := range s.groups {
		if err := s.deleteLocked(key); err != nil {
			return err
		}
	}
	return nil
}

// Families returns the families of every group, those of the same name
// merged into one as the Pushgateway exposes them: the help and type of
// the first group in the order of grouping keys. The caller may reorder
// the families' Metric slices, but must not change the metrics.
func (s *Store) Families() []*dto.MetricFamily {
	s.expire()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return mergeFamilies(s.groups)
}

// Collect returns Families: the store is an exporter, collected as a
// target of the scrape manager.
func (s *Store) Collect(context.Context) ([]*dto.MetricFamily, error) {
	return s.Families(), nil
}

// Groups returns the groups by grouping key. The maps are the caller's;
// the families in them must not be changed.
func (s *Store) Groups() storage.GroupingKeyToMetricGroup {
	s.expire()
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(storage.GroupingKeyToMetricGroup, len(s.groups))
	for k, g := range s.groups {
		out[k] = storage.MetricGroup{Labels: maps.Clone(g.Labels), Metrics: maps.Clone(g.Metrics)}
	}
	return out
}

// SubmitWriteRequest implements storage.MetricStore: it pushes, or
// deletes when req.MetricFamilies is nil, at once; the error, if any, goes
// to req.Done, which is then closed.
func (s *Store) SubmitWriteRequest(req storage.WriteRequest) {
	var err error
	if req.MetricFamilies == nil {
		err = s.Delete(req.Labels)
	} else {
		err = s.Push(req.Labels, req.MetricFamilies, req.Replace, req.Timestamp)
	}
	if err != nil {
		s.logger.Error("write request failed", "grouping", fmt.Sprint(req.Labels), "error", err)
	}
	if req.Done != nil {
		if err != nil {
			req.Done <- err
		}
		close(req.Done)
	}
}

// GetMetricFamilies implements storage.MetricStore with Families.
func (s *Store) GetMetricFamilies() []*dto.MetricFamily { return s.Families() }

// GetMetricFamiliesMap implements storage.MetricStore with Groups.
func (s *Store) GetMetricFamiliesMap() storage.GroupingKeyToMetricGroup { return s.Groups() }

// Shutdown implements storage.MetricStore: every write is on disk when it
// returns, so there is nothing to wait for; Close closes the database.
func (s *Store) Shutdown() error { return nil }

// Healthy implements storage.MetricStore.
func (s *Store) Healthy() error {
	if s.kv.IsClosed() {
		return errors.New("the push store is closed")
	}
	return nil
}

// Ready implements storage.MetricStore.
func (s *Store) Ready() error { return s.Healthy() }

// MetricGroupOf returns an empty group of the grouping labels.
func MetricGroupOf(grouping map[string]string) storage.MetricGroup {
	return storage.MetricGroup{Labels: maps.Clone(grouping), Metrics: storage.NameToTimestampedMetricFamilyMap{}}
}

// failLocked records a failed push at at in the group of key, making the
// group if there is none, as the Pushgateway does.
func (s *Store) failLocked(key string, grouping map[string]string, at time.Time) error {
	next := MetricGroupOf(grouping)
	if old, ok := s.groups[key]; ok {
		maps.Copy(next.Metrics, old.Metrics)
	} else if s.opts.MaxGroups > 0 && len(s.groups) >= s.opts.MaxGroups {
		return nil
	}
	next.Metrics[pushFailedMetricName] = timestamped(timestampGauge(pushFailedMetricName, pushFailedMetricHelp, grouping, at), at)
	if _, ok := next.Metrics[pushMetricName]; !ok {
		next.Metrics[pushMetricName] = timestamped(timestampGauge(pushMetricName, pushMetricHelp, grouping, time.Time{}), at)
	}
	return s.storeLocked(key, next)
}

// checkLocked says whether the groups, with next as the group of key,
// can be gathered together: the Pushgateway's consistency check.
func (s *Store) checkLocked(key string, next storage.MetricGroup) error {
	groups := maps.Clone(s.groups)
	groups[key] = next
	g := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return mergeFamilies(groups), nil })
	_, err := prometheus.Gatherers{g}.Gather()
	return err
}

// storeLocked writes the group of key to disk, then keeps it in memory.
func (s *Store) storeLocked(key string, g storage.MetricGroup) error {
	v, err := encodeGroup(g)
	if err != nil {
		return err
	}
	if err := s.kv.Update(func(txn *badger.Txn) error { return txn.Set(groupKey(key), v) }); err != nil {
		return fmt.Errorf("cannot store the group %v: %w", g.Labels, err)
	}
	s.groups[key] = g
	return nil
}

func (s *Store) deleteLocked(key string) error {
	if err := s.kv.Update(func(txn *badger.Txn) error { return txn.Delete(groupKey(key)) }); err != nil {
		return fmt.Errorf("cannot delete the group %v: %w", s.groups[key].Labels, err)
	}
	delete(s.groups, key)
	return nil
}

// expire removes the groups whose time to live is over.
func (s *Store) expire() {
	if s.opts.TTL <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.expireLocked(); err != nil {
		s.logger.Error("cannot remove an expired group", "error", err)
	}
}

func (s *Store) expireLocked() error {
	if s.opts.TTL <= 0 {
		return nil
	}
	now := s.opts.Now()
	for key, g := range s.groups {
		if lastPush(g).Add(s.opts.TTL).After(now) {
			continue
		}
		if err := s.deleteLocked(key); err != nil {
			return err
		}
		s.logger.Info("group expired", "grouping", fmt.Sprint(g.Labels), "last_push", lastPush(g))
	}
	return nil
}

// lastPush is when the group's last successful push was, or when it was
// made if no push succeeded.
func lastPush(g storage.MetricGroup) time.Time {
	return g.Metrics[pushMetricName].Timestamp
}

// load reads every group from disk.
func (s *Store) load() error {
	return s.kv.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{groupPrefix}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			key := string(item.Key()[1:])
			err := item.Value(func(v []byte) error {
				g, err := decodeGroup(v)
				if err != nil {
					return err
				}
				s.groups[key] = g
				return nil
			})
			if err != nil {
				return fmt.Errorf("cannot read the pushed group %q from %s: %w", strings.ReplaceAll(key, string(model.SeparatorByte), ","), s.opts.Dir, err)
			}
		}
		return nil
	})
}

// groupPrefix starts the badger key of every group: groupPrefix, then
// the grouping key.
const groupPrefix = 'g'

// recordVersion is the first byte of a group's value.
const recordVersion = 1

func groupKey(key string) []byte { return append([]byte{groupPrefix}, key...) }

// encodeGroup writes a group as FORMAT.md says: the version byte, then
// the group in gob, whose families are in the protobuf format.
func encodeGroup(g storage.MetricGroup) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte(recordVersion)
	if err := gob.NewEncoder(&b).Encode(g); err != nil {
		return nil, fmt.Errorf("cannot encode the group %v: %w", g.Labels, err)
	}
	return b.Bytes(), nil
}

func decodeGroup(v []byte) (storage.MetricGroup, error) {
	var g storage.MetricGroup
	if len(v) == 0 || v[0] != recordVersion {
		return g, fmt.Errorf("unknown record version in a value of %d bytes", len(v))
	}
	if err := gob.NewDecoder(bytes.NewReader(v[1:])).Decode(&g); err != nil {
		return g, err
	}
	for name, tmf := range g.Metrics {
		if tmf.GobbableMetricFamily == nil {
			return g, fmt.Errorf("the family %s has no content", name)
		}
	}
	return g, nil
}

// mergeFamilies returns the families of the groups, those of the same
// name merged, in the order of the grouping keys and of the names. Every
// family returned is a copy, with a slice of metrics of its own.
func mergeFamilies(groups storage.GroupingKeyToMetricGroup) []*dto.MetricFamily {
	keys := slices.Sorted(maps.Keys(groups))
	var out []*dto.MetricFamily
	byName := map[string]*dto.MetricFamily{}
	for _, key := range keys {
		g := groups[key]
		names := slices.Sorted(maps.Keys(g.Metrics))
		for _, name := range names {
			mf := g.Metrics[name].GetMetricFamily()
			if merged, ok := byName[name]; ok {
				merged.Metric = append(merged.Metric, mf.Metric...)
				continue
			}
			c := &dto.MetricFamily{Name: mf.Name, Help: mf.Help, Type: mf.Type, Unit: mf.Unit, Metric: slices.Clone(mf.Metric)}
			byName[name] = c
			out = append(out, c)
		}
	}
	return out
}

// groupingKeyFor is the Pushgateway's grouping key of the labels: names
// and values, sorted by name, joined with model.SeparatorByte.
func groupingKeyFor(grouping map[string]string) string {
	names := slices.Sorted(maps.Keys(grouping))
	var sb strings.Builder
	for i, name := range names {
		if i > 0 {
			sb.WriteByte(model.SeparatorByte)
		}
		sb.WriteString(name)
		sb.WriteByte(model.SeparatorByte)
		sb.WriteString(grouping[name])
	}
	return sb.String()
}

func timestamped(mf *dto.MetricFamily, at time.Time) storage.TimestampedMetricFamily {
	return storage.TimestampedMetricFamily{Timestamp: at, GobbableMetricFamily: (*storage.GobbableMetricFamily)(mf)}
}

// timestampGauge is push_time_seconds or push_failure_time_seconds of a
// group: t in Unix seconds, 0 for the zero time.
func timestampGauge(name, help string, grouping map[string]string, t time.Time) *dto.MetricFamily {
	var v float64
	if !t.IsZero() {
		v = float64(t.UnixNano()) / 1e9
	}
	mf := &dto.MetricFamily{
		Name: proto.String(name), Help: proto.String(help), Type: dto.MetricType_GAUGE.Enum(),
		Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(v)}}},
	}
	sanitizeLabels(mf, grouping)
	return mf
}

// sanitizeLabels gives every metric of mf the grouping labels, whatever
// values it had for them, and an empty instance label if it has none, and
// sorts its labels: what the Pushgateway does to a pushed family.
func sanitizeLabels(mf *dto.MetricFamily, grouping map[string]string) {
	for _, m := range mf.GetMetric() {
		seen := map[string]bool{}
		for _, lp := range m.GetLabel() {
			if v, ok := grouping[lp.GetName()]; ok {
				lp.Value = proto.String(v)
			}
			seen[lp.GetName()] = true
		}
		for _, name := range slices.Sorted(maps.Keys(grouping)) {
			if !seen[name] {
				m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(name), Value: proto.String(grouping[name])})
				seen[name] = true
			}
		}
		if !seen[model.InstanceLabel] {
			m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(model.InstanceLabel), Value: proto.String("")})
		}
		sort.Slice(m.Label, func(i, j int) bool { return m.Label[i].GetName() < m.Label[j].GetName() })
	}
}

// timestampsPresent says whether a metric of the families has a
// timestamp.
func timestampsPresent(families map[string]*dto.MetricFamily) bool {
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			if m.TimestampMs != nil {
				return true
			}
		}
	}
	return false
}
