package alert

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dgraph-io/badger/v4"
	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/prometheus/model/labels"
)

// DefaultSilenceRetention is how long an expired silence is kept before GC
// removes it, as Alertmanager's --data.retention default.
const DefaultSilenceRetention = 120 * time.Hour

// ErrSilenceNotFound is returned for a silence ID the store does not hold.
var ErrSilenceNotFound = errors.New("silence not found")

// ErrInvalidSilence is wrapped by the errors for silences that cannot be set.
var ErrInvalidSilence = errors.New("invalid silence")

// ErrStoreClosed is returned by the operations on a closed store.
var ErrStoreClosed = errors.New("alert store is closed")

// SilenceState is the state of a silence at a point in time.
type SilenceState string

// The states of a silence. A silence is pending before StartsAt, active from
// StartsAt until EndsAt, and expired from EndsAt on.
const (
	SilenceStatePending SilenceState = "pending"
	SilenceStateActive  SilenceState = "active"
	SilenceStateExpired SilenceState = "expired"
)

// Silence mutes the alerts whose labels match all its matchers while it is
// active, as an Alertmanager silence.
type Silence struct {
	// ID is a UUID given by Silences.Set.
	ID string
	// Matchers select the muted alerts; all must match.
	Matchers []*labels.Matcher
	// StartsAt and EndsAt bound the time the silence is active: from
	// StartsAt (inclusive) to EndsAt (exclusive).
	StartsAt, EndsAt time.Time
	// UpdatedAt is the time of the last change, set by the store.
	UpdatedAt time.Time
	// CreatedBy names the author.
	CreatedBy string
	// Comment says why the silence exists.
	Comment string
}

// State returns the state of the silence at now.
func (s *Silence) State(now time.Time) SilenceState {
	switch {
	case now.Before(s.StartsAt):
		return SilenceStatePending
	case now.Before(s.EndsAt):
		return SilenceStateActive
	default:
		return SilenceStateExpired
	}
}

// Matches reports whether the silence's matchers all match lset, whatever
// its state.
func (s *Silence) Matches(lset labels.Labels) bool {
	return MatchesAll(s.Matchers, lset)
}

// clone returns a copy of s that shares no slice with it. Matchers are
// immutable and shared.
func (s *Silence) clone() *Silence {
	c := *s
	c.Matchers = slices.Clone(s.Matchers)
	return &c
}

// validate checks what every stored silence must satisfy.
func (s *Silence) validate() error {
	if len(s.Matchers) == 0 {
		return fmt.Errorf("%w: at least one matcher is required", ErrInvalidSilence)
	}
	matchesEmpty := true
	for i, m := range s.Matchers {
		if m == nil {
			return fmt.Errorf("%w: matcher %d is nil", ErrInvalidSilence, i)
		}
		if m.Name == "" || !utf8.ValidString(m.Name) {
			return fmt.Errorf("%w: matcher %d: invalid label name %q", ErrInvalidSilence, i, m.Name)
		}
		if m.Type < labels.MatchEqual || m.Type > labels.MatchNotRegexp {
			return fmt.Errorf("%w: matcher %d: unknown match type %d", ErrInvalidSilence, i, m.Type)
		}
		if !utf8.ValidString(m.Value) {
			return fmt.Errorf("%w: matcher %d: value %q is not valid UTF-8", ErrInvalidSilence, i, m.Value)
		}
		// Matchers built by hand bypass NewMatcher's regex compilation;
		// rebuilding them checks the regex.
		rebuilt, err := labels.NewMatcher(m.Type, m.Name, m.Value)
		if err != nil {
			return fmt.Errorf("%w: matcher %s: %w", ErrInvalidSilence, m, err)
		}
		if !matchesEmptyValue(rebuilt) {
			matchesEmpty = false
		}
	}
	if matchesEmpty {
		return fmt.Errorf("%w: at least one matcher must not match the empty string", ErrInvalidSilence)
	}
	if s.StartsAt.IsZero() {
		return fmt.Errorf("%w: start time is missing", ErrInvalidSilence)
	}
	if s.EndsAt.IsZero() {
		return fmt.Errorf("%w: end time is missing", ErrInvalidSilence)
	}
	if s.EndsAt.Before(s.StartsAt) {
		return fmt.Errorf("%w: end time %s is before start time %s", ErrInvalidSilence,
			s.EndsAt.Format(time.RFC3339), s.StartsAt.Format(time.RFC3339))
	}
	return nil
}

// matchesEmptyValue says whether m counts as matching the empty string in
// the check that a silence does not match every alert, as Alertmanager
// counts it: an equality with "" and a regular expression matching "" do;
// a negative matcher never does, so that a silence of `alertname!="Watchdog"`
// alone is valid, as it is in Alertmanager.
func matchesEmptyValue(m *labels.Matcher) bool {
	switch m.Type {
	case labels.MatchEqual:
		return m.Value == ""
	case labels.MatchRegexp:
		return m.Matches("")
	default:
		return false
	}
}

// SilenceFilter selects silences in Silences.Query. Its zero value selects
// all of them.
type SilenceFilter struct {
	// IDs, if not empty, selects the silences with these IDs.
	IDs []string
	// States, if not empty, selects the silences in one of these states at Now.
	States []SilenceState
	// Now is the time States refers to; the zero value means the current time.
	Now time.Time
	// Labels, if not nil, selects the silences whose matchers match these
	// labels (the silences that would mute an alert with them, when active).
	Labels *labels.Labels
	// Matchers, if not empty, selects the silences whose own matchers satisfy
	// them, as Alertmanager's API filter: each filter matcher must match the
	// value of the silence's matcher on the same label name; a filter matcher
	// matching the empty string also accepts silences without that name.
	Matchers []*labels.Matcher
}

// Silences holds the silences: a copy of all of them in memory, for fast
// Mutes, and in badger, so that they survive restarts. All methods are safe
// for concurrent use.
type Silences struct {
	kv     *badger.DB
	space  func() error // StoreOptions.SpaceCheck
	logger hclog.Logger
	// now returns the current time; tests replace it.
	now func() time.Time

	mu        sync.RWMutex
	closed    bool
	retention time.Duration
	byID      map[string]*Silence
}

// loadSilences reads every silence from kv.
func loadSilences(kv *badger.DB, logger hclog.Logger, space func() error) (*Silences, error) {
	s := &Silences{
		kv:        kv,
		space:     space,
		logger:    logger,
		now:       time.Now,
		retention: DefaultSilenceRetention,
		byID:      map[string]*Silence{},
	}
	err := kv.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixSilence}, PrefetchValues: true, PrefetchSize: 100})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			id := string(item.Key()[1:])
			err := item.Value(func(v []byte) error {
				sil, err := decodeSilence(id, v)
				if err != nil {
					return err
				}
				s.byID[id] = sil
				return nil
			})
			if err != nil {
				return fmt.Errorf("cannot load silence %q: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	logger.Debug("silences loaded", "count", len(s.byID))
	return s, nil
}

func (s *Silences) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}

// SetRetention sets how long expired silences are kept before GC removes
// them; DefaultSilenceRetention until set.
func (s *Silences) SetRetention(d time.Duration) {
	s.mu.Lock()
	s.retention = d
	s.mu.Unlock()
}

// Set creates or updates a silence and returns its ID.
//
// A silence with an empty ID is created with a new ID; a start time in the
// past is moved to the current time, and the end time must be in the future.
// A silence with an ID updates that silence, with Alertmanager's rules: when
// the matchers are unchanged and only the end time, the comment or the
// author change (and, for a pending silence, the start time, if not in the
// past), and the silence is not expired, it is updated in place and keeps
// its ID. Otherwise a new silence is created with a new ID, and the old one
// is expired in the same write.
func (s *Silences) Set(sil *Silence) (string, error) {
	if sil == nil {
		return "", fmt.Errorf("%w: nil silence", ErrInvalidSilence)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", ErrStoreClosed
	}
	// Times are kept as they read back from the store: UTC, no monotonic
	// clock reading.
	now := s.now().Round(0).UTC()
	sil = sil.clone()
	sil.StartsAt = sil.StartsAt.Round(0).UTC()
	sil.EndsAt = sil.EndsAt.Round(0).UTC()
	sil.UpdatedAt = now

	var prev *Silence
	if sil.ID != "" {
		var ok bool
		if prev, ok = s.byID[sil.ID]; !ok {
			return "", fmt.Errorf("cannot update silence %q: %w", sil.ID, ErrSilenceNotFound)
		}
		if canUpdateSilence(prev, sil, now) {
			if err := sil.validate(); err != nil {
				return "", fmt.Errorf("cannot update silence %q: %w", sil.ID, err)
			}
			if err := s.write(sil); err != nil {
				return "", err
			}
			s.logger.Debug("silence updated", "id", sil.ID)
			return sil.ID, nil
		}
	}

	sil.ID = uuid.NewString()
	if sil.StartsAt.Before(now) {
		sil.StartsAt = now
	}
	if err := sil.validate(); err != nil {
		return "", fmt.Errorf("cannot create silence: %w", err)
	}
	if !sil.EndsAt.After(now) {
		return "", fmt.Errorf("cannot create silence: %w: end time %s is not in the future",
			ErrInvalidSilence, sil.EndsAt.Format(time.RFC3339))
	}
	writes := []*Silence{sil}
	if prev != nil && prev.State(now) != SilenceStateExpired {
		writes = append(writes, expiredCopy(prev, now))
	}
	if err := s.write(writes...); err != nil {
		return "", err
	}
	if prev != nil {
		s.logger.Debug("silence replaced", "old", prev.ID, "new", sil.ID)
	} else {
		s.logger.Debug("silence created", "id", sil.ID)
	}
	return sil.ID, nil
}

// canUpdateSilence reports whether next may replace prev in place, as
// Alertmanager decides: same matchers, prev not expired, and for an active
// prev the same start (to the second, as Alertmanager compares them, so
// that a start sent back with less precision still counts as the same)
// and an end not in the past, for a pending prev a start not in the past.
func canUpdateSilence(prev, next *Silence, now time.Time) bool {
	if !sameMatchers(prev.Matchers, next.Matchers) {
		return false
	}
	switch prev.State(now) {
	case SilenceStateActive:
		return next.StartsAt.Unix() == prev.StartsAt.Unix() && !next.EndsAt.Before(now)
	case SilenceStatePending:
		return !next.StartsAt.Before(now)
	default:
		return false
	}
}

// sameMatchers reports whether a and b hold the same matchers, in any order.
func sameMatchers(a, b []*labels.Matcher) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(ms []*labels.Matcher) []string {
		out := make([]string, len(ms))
		for i, m := range ms {
			if m == nil {
				continue
			}
			out[i] = m.Type.String() + "\xff" + m.Name + "\xff" + m.Value
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(key(a), key(b))
}

// expiredCopy returns a copy of sil ending at now; a pending silence also
// starts at now.
func expiredCopy(sil *Silence, now time.Time) *Silence {
	c := sil.clone()
	if c.State(now) == SilenceStatePending {
		c.StartsAt = now
	}
	c.EndsAt = now
	c.UpdatedAt = now
	return c
}

// Expire ends the silence with the given ID now. A pending silence is
// expired without ever becoming active. Expiring an expired silence is an
// error.
func (s *Silences) Expire(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrStoreClosed
	}
	prev, ok := s.byID[id]
	if !ok {
		return fmt.Errorf("cannot expire silence %q: %w", id, ErrSilenceNotFound)
	}
	now := s.now().Round(0).UTC()
	if prev.State(now) == SilenceStateExpired {
		return fmt.Errorf("cannot expire silence %q: already expired", id)
	}
	if err := s.write(expiredCopy(prev, now)); err != nil {
		return err
	}
	s.logger.Debug("silence expired", "id", id)
	return nil
}

// Get returns a copy of the silence with the given ID.
func (s *Silences) Get(id string) (*Silence, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrStoreClosed
	}
	sil, ok := s.byID[id]
	if !ok {
		return nil, fmt.Errorf("silence %q: %w", id, ErrSilenceNotFound)
	}
	return sil.clone(), nil
}

// Query returns copies of the silences f selects, ordered by start time,
// then ID.
func (s *Silences) Query(f SilenceFilter) ([]*Silence, error) {
	now := f.Now
	if now.IsZero() {
		now = s.now()
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrStoreClosed
	}
	var out []*Silence
	for _, sil := range s.byID {
		if len(f.IDs) > 0 && !slices.Contains(f.IDs, sil.ID) {
			continue
		}
		if len(f.States) > 0 && !slices.Contains(f.States, sil.State(now)) {
			continue
		}
		if f.Labels != nil && !sil.Matches(*f.Labels) {
			continue
		}
		if !silenceMatchesFilter(sil, f.Matchers) {
			continue
		}
		out = append(out, sil.clone())
	}
	slices.SortFunc(out, func(a, b *Silence) int {
		if c := a.StartsAt.Compare(b.StartsAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// silenceMatchesFilter applies Alertmanager's API silence filter: every
// filter matcher must match the value of the silence's matcher on the same
// name; one matching the empty string also accepts a silence without a
// matcher on that name.
func silenceMatchesFilter(sil *Silence, filter []*labels.Matcher) bool {
	if len(filter) == 0 {
		return true
	}
	values := make(map[string]string, len(sil.Matchers))
	for _, m := range sil.Matchers {
		values[m.Name] = m.Value
	}
	for _, fm := range filter {
		v, ok := values[fm.Name]
		if !ok {
			if fm.Matches("") {
				continue
			}
			return false
		}
		if !fm.Matches(v) {
			return false
		}
	}
	return true
}

// Mutes returns the IDs of the silences active at now whose matchers all
// match lset, sorted; none if the alert is not silenced.
func (s *Silences) Mutes(lset labels.Labels, now time.Time) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var ids []string
	for id, sil := range s.byID {
		if sil.State(now) == SilenceStateActive && sil.Matches(lset) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// GC deletes the silences that ended longer than the retention before now
// and returns how many it deleted.
func (s *Silences) GC(now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrStoreClosed
	}
	var ids []string
	for id, sil := range s.byID {
		if !now.Before(sil.EndsAt.Add(s.retention)) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	if err := s.space(); err != nil {
		return 0, fmt.Errorf("cannot delete %d expired silences: %w", len(ids), err)
	}
	wb := s.kv.NewWriteBatch()
	defer wb.Cancel()
	for _, id := range ids {
		if err := wb.Delete(silenceKey(id)); err != nil {
			return 0, fmt.Errorf("cannot delete expired silence %q: %w", id, err)
		}
	}
	if err := wb.Flush(); err != nil {
		return 0, fmt.Errorf("cannot delete %d expired silences: %w", len(ids), err)
	}
	for _, id := range ids {
		delete(s.byID, id)
	}
	s.logger.Debug("expired silences deleted", "count", len(ids))
	return len(ids), nil
}

// write stores the silences in one badger transaction, then in memory.
// s.mu must be held.
func (s *Silences) write(sils ...*Silence) error {
	if err := s.space(); err != nil {
		return fmt.Errorf("cannot store silence: %w", err)
	}
	err := s.kv.Update(func(txn *badger.Txn) error {
		for _, sil := range sils {
			if err := txn.Set(silenceKey(sil.ID), encodeSilence(sil)); err != nil {
				return fmt.Errorf("silence %q: %w", sil.ID, err)
			}
		}
		return nil
	})
	if err == nil {
		err = s.kv.Sync()
	}
	if err != nil {
		return fmt.Errorf("cannot store silence: %w", err)
	}
	for _, sil := range sils {
		s.byID[sil.ID] = sil
	}
	return nil
}

func silenceKey(id string) []byte {
	return append([]byte{prefixSilence}, id...)
}

// encodeSilence returns the value of a silence record; FORMAT.md describes it.
func encodeSilence(sil *Silence) []byte {
	b := []byte{recordVersion}
	b = binary.AppendVarint(b, sil.StartsAt.UnixNano())
	b = binary.AppendVarint(b, sil.EndsAt.UnixNano())
	b = binary.AppendVarint(b, sil.UpdatedAt.UnixNano())
	b = appendString(b, sil.CreatedBy)
	b = appendString(b, sil.Comment)
	b = binary.AppendUvarint(b, uint64(len(sil.Matchers)))
	for _, m := range sil.Matchers {
		b = append(b, byte(m.Type))
		b = appendString(b, m.Name)
		b = appendString(b, m.Value)
	}
	return sealRecord(b)
}

// decodeSilence decodes the value of the silence record with the given ID.
func decodeSilence(id string, v []byte) (*Silence, error) {
	d, err := openRecord(v)
	if err != nil {
		return nil, err
	}
	sil := &Silence{ID: id}
	sil.StartsAt = time.Unix(0, d.varint()).UTC()
	sil.EndsAt = time.Unix(0, d.varint()).UTC()
	sil.UpdatedAt = time.Unix(0, d.varint()).UTC()
	sil.CreatedBy = d.string()
	sil.Comment = d.string()
	n := d.count(3)
	for range n {
		t := labels.MatchType(d.byte())
		name, value := d.string(), d.string()
		if d.err != nil {
			break
		}
		if t > labels.MatchNotRegexp {
			return nil, fmt.Errorf("matcher %d: unknown match type %d: %w", len(sil.Matchers), t, errCorrupt)
		}
		m, err := labels.NewMatcher(t, name, value)
		if err != nil {
			return nil, fmt.Errorf("matcher %d: %w", len(sil.Matchers), err)
		}
		sil.Matchers = append(sil.Matchers, m)
	}
	if err := d.finish(); err != nil {
		return nil, err
	}
	return sil, nil
}
