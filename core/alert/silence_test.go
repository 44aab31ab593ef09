package alert

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

var silT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const silHour = time.Hour

// silClock is a settable clock for Silences.now.
type silClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *silClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *silClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// silMatchers builds matchers from name, op, value triples.
func silMatchers(t *testing.T, nov ...string) []*labels.Matcher {
	t.Helper()
	types := map[string]labels.MatchType{"=": labels.MatchEqual, "!=": labels.MatchNotEqual, "=~": labels.MatchRegexp, "!~": labels.MatchNotRegexp}
	var ms []*labels.Matcher
	for i := 0; i+2 < len(nov); i += 3 {
		m, err := labels.NewMatcher(types[nov[i+1]], nov[i], nov[i+2])
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	return ms
}

// silencesForTest opens a store in a temporary directory with its clock at silT0.
func silencesForTest(t *testing.T) (*Silences, *silClock, string, *Store) {
	t.Helper()
	dir := t.TempDir()
	st := openStoreForTest(t, dir)
	c := &silClock{t: silT0}
	st.Silences().now = c.now
	return st.Silences(), c, dir, st
}

func mustSet(t *testing.T, s *Silences, sil *Silence) string {
	t.Helper()
	id, err := s.Set(sil)
	if err != nil {
		t.Fatalf("Set: %v", err)
	}
	return id
}

func mustGet(t *testing.T, s *Silences, id string) *Silence {
	t.Helper()
	sil, err := s.Get(id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return sil
}

func TestSilenceCreateAndGet(t *testing.T) {
	s, _, _, _ := silencesForTest(t)
	id := mustSet(t, s, &Silence{
		Matchers:  silMatchers(t, "alertname", "=", "Down", "job", "=~", "api|web"),
		StartsAt:  silT0.Add(-silHour), // moved to now
		EndsAt:    silT0.Add(2 * silHour),
		CreatedBy: "ops",
		Comment:   "maintenance",
	})
	if len(id) != 36 {
		t.Errorf("ID %q is not a UUID", id)
	}
	got := mustGet(t, s, id)
	if !got.StartsAt.Equal(silT0) || !got.EndsAt.Equal(silT0.Add(2*silHour)) || !got.UpdatedAt.Equal(silT0) {
		t.Errorf("times: got %v-%v updated %v", got.StartsAt, got.EndsAt, got.UpdatedAt)
	}
	if got.CreatedBy != "ops" || got.Comment != "maintenance" || len(got.Matchers) != 2 {
		t.Errorf("got %+v", got)
	}
	if _, err := s.Get("nope"); !errors.Is(err, ErrSilenceNotFound) {
		t.Errorf("Get of an unknown ID: got %v", err)
	}
	if _, err := s.Set(&Silence{ID: "nope", Matchers: got.Matchers, StartsAt: silT0, EndsAt: silT0.Add(silHour)}); !errors.Is(err, ErrSilenceNotFound) {
		t.Errorf("Set of an unknown ID: got %v", err)
	}
	// The returned silence is a copy.
	got.Matchers[0] = nil
	if mustGet(t, s, id).Matchers[0] == nil {
		t.Error("Get returned the stored silence, not a copy")
	}
}

func TestSilenceStates(t *testing.T) {
	sil := &Silence{StartsAt: silT0, EndsAt: silT0.Add(silHour)}
	for _, tc := range []struct {
		at   time.Time
		want SilenceState
	}{
		{silT0.Add(-time.Nanosecond), SilenceStatePending},
		{silT0, SilenceStateActive},
		{silT0.Add(silHour - time.Nanosecond), SilenceStateActive},
		{silT0.Add(silHour), SilenceStateExpired},
	} {
		if got := sil.State(tc.at); got != tc.want {
			t.Errorf("State(%v) = %s, want %s", tc.at, got, tc.want)
		}
	}
}

func TestSilenceUpdateInPlace(t *testing.T) {
	s, c, _, _ := silencesForTest(t)
	ms := silMatchers(t, "a", "=", "1", "b", "!=", "2")
	id := mustSet(t, s, &Silence{Matchers: ms, StartsAt: silT0, EndsAt: silT0.Add(silHour), Comment: "one"})
	c.set(silT0.Add(10 * time.Minute))

	// Active: changing end time and comment, matchers in another order, keeps the ID.
	upd := mustGet(t, s, id)
	upd.EndsAt = silT0.Add(3 * silHour)
	upd.Comment = "two"
	upd.Matchers = []*labels.Matcher{ms[1], ms[0]}
	if got := mustSet(t, s, upd); got != id {
		t.Fatalf("update of end and comment created %s, want in place %s", got, id)
	}
	got := mustGet(t, s, id)
	if got.Comment != "two" || !got.EndsAt.Equal(silT0.Add(3*silHour)) || !got.UpdatedAt.Equal(c.now()) {
		t.Errorf("after update: %+v", got)
	}
	if all, _ := s.Query(SilenceFilter{}); len(all) != 1 {
		t.Errorf("%d silences after an in-place update, want 1", len(all))
	}

	// Pending: the start may move, if not into the past.
	pid := mustSet(t, s, &Silence{Matchers: ms, StartsAt: silT0.Add(silHour), EndsAt: silT0.Add(2 * silHour)})
	p := mustGet(t, s, pid)
	p.StartsAt = silT0.Add(90 * time.Minute)
	if got := mustSet(t, s, p); got != pid {
		t.Errorf("moving a pending silence's start created %s, want in place %s", got, pid)
	}
}

func TestSilenceUpdateCreatesNew(t *testing.T) {
	s, c, _, _ := silencesForTest(t)
	id := mustSet(t, s, &Silence{Matchers: silMatchers(t, "a", "=", "1"), StartsAt: silT0, EndsAt: silT0.Add(silHour)})
	c.set(silT0.Add(10 * time.Minute))
	now := c.now()

	upd := mustGet(t, s, id)
	upd.Matchers = silMatchers(t, "a", "=", "2")
	newID := mustSet(t, s, upd)
	if newID == id {
		t.Fatal("changing the matchers of an active silence updated it in place")
	}
	old := mustGet(t, s, id)
	if old.State(now) != SilenceStateExpired || !old.EndsAt.Equal(now) {
		t.Errorf("old silence: state %s, ends %v; want expired at %v", old.State(now), old.EndsAt, now)
	}
	nw := mustGet(t, s, newID)
	if nw.State(now) != SilenceStateActive || nw.Matchers[0].Value != "2" {
		t.Errorf("new silence: %+v", nw)
	}

	// Changing the start of an active silence also replaces it.
	upd = mustGet(t, s, newID)
	upd.StartsAt = silT0.Add(5 * time.Minute)
	third := mustSet(t, s, upd)
	if third == newID {
		t.Error("changing the start of an active silence updated it in place")
	}
	if st := mustGet(t, s, newID).State(now); st != SilenceStateExpired {
		t.Errorf("replaced silence is %s", st)
	}
	if got := mustGet(t, s, third); !got.StartsAt.Equal(now) {
		t.Errorf("replacement starts at %v, want now %v", got.StartsAt, now)
	}

	// Updating an expired silence creates a new one and leaves the old alone.
	exp := mustGet(t, s, id)
	exp.EndsAt = silT0.Add(5 * silHour)
	fourth := mustSet(t, s, exp)
	if fourth == id {
		t.Error("updating an expired silence revived it in place")
	}
	if st := mustGet(t, s, fourth).State(now); st != SilenceStateActive {
		t.Errorf("silence made from an expired one is %s", st)
	}
}

func TestSilenceExpire(t *testing.T) {
	s, c, _, _ := silencesForTest(t)
	ms := silMatchers(t, "a", "=", "1")
	active := mustSet(t, s, &Silence{Matchers: ms, StartsAt: silT0, EndsAt: silT0.Add(silHour)})
	pending := mustSet(t, s, &Silence{Matchers: ms, StartsAt: silT0.Add(silHour), EndsAt: silT0.Add(2 * silHour)})
	c.set(silT0.Add(time.Minute))
	now := c.now()
	for _, id := range []string{active, pending} {
		if err := s.Expire(id); err != nil {
			t.Fatalf("Expire(%s): %v", id, err)
		}
		got := mustGet(t, s, id)
		if got.State(now) != SilenceStateExpired || !got.EndsAt.Equal(now) || got.StartsAt.After(now) {
			t.Errorf("expired silence: %+v", got)
		}
	}
	if err := s.Expire(active); err == nil {
		t.Error("expiring an expired silence succeeded")
	}
	if err := s.Expire("nope"); !errors.Is(err, ErrSilenceNotFound) {
		t.Errorf("Expire of an unknown ID: got %v", err)
	}
	if ids := s.Mutes(labels.FromStrings("a", "1"), now); len(ids) != 0 {
		t.Errorf("expired silences mute: %v", ids)
	}
}

func TestSilenceValidation(t *testing.T) {
	s, _, _, _ := silencesForTest(t)
	end := silT0.Add(silHour)
	for _, tc := range []struct {
		name string
		sil  *Silence
	}{
		{"no matchers", &Silence{StartsAt: silT0, EndsAt: end}},
		{"all match empty", &Silence{Matchers: silMatchers(t, "a", "=", "", "b", "=~", ".*"), StartsAt: silT0, EndsAt: end}},
		{"empty equal", &Silence{Matchers: silMatchers(t, "a", "=", ""), StartsAt: silT0, EndsAt: end}},
		{"end before start", &Silence{Matchers: silMatchers(t, "a", "=", "1"), StartsAt: silT0.Add(2 * silHour), EndsAt: end}},
		{"end in the past", &Silence{Matchers: silMatchers(t, "a", "=", "1"), StartsAt: silT0.Add(-2 * silHour), EndsAt: silT0.Add(-silHour)}},
		{"no end", &Silence{Matchers: silMatchers(t, "a", "=", "1"), StartsAt: silT0}},
		{"bad regex", &Silence{Matchers: []*labels.Matcher{{Type: labels.MatchRegexp, Name: "a", Value: "("}}, StartsAt: silT0, EndsAt: end}},
		{"empty name", &Silence{Matchers: []*labels.Matcher{{Type: labels.MatchEqual, Name: "", Value: "x"}}, StartsAt: silT0, EndsAt: end}},
		{"bad type", &Silence{Matchers: []*labels.Matcher{{Type: 9, Name: "a", Value: "x"}}, StartsAt: silT0, EndsAt: end}},
		{"nil", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Set(tc.sil)
			if !errors.Is(err, ErrInvalidSilence) {
				t.Fatalf("got %v, want ErrInvalidSilence", err)
			}
			t.Log(err)
		})
	}
	if all, _ := s.Query(SilenceFilter{}); len(all) != 0 {
		t.Errorf("invalid silences stored: %d", len(all))
	}
	// One matcher not matching the empty string is enough.
	mustSet(t, s, &Silence{Matchers: silMatchers(t, "a", "=~", ".*", "b", "=", "x"), StartsAt: silT0, EndsAt: end})
}

func TestSilenceMutes(t *testing.T) {
	s, _, _, _ := silencesForTest(t)
	end := silT0.Add(silHour)
	regex := mustSet(t, s, &Silence{Matchers: silMatchers(t, "job", "=~", "api|web", "env", "!=", "prod"), StartsAt: silT0, EndsAt: end})
	notRegex := mustSet(t, s, &Silence{Matchers: silMatchers(t, "alertname", "=", "Down", "instance", "!~", "db-.*"), StartsAt: silT0, EndsAt: end})
	pending := mustSet(t, s, &Silence{Matchers: silMatchers(t, "alertname", "=", "Down"), StartsAt: silT0.Add(30 * time.Minute), EndsAt: end})
	for _, tc := range []struct {
		lset labels.Labels
		at   time.Time
		want []string
	}{
		{labels.FromStrings("job", "api", "env", "dev"), silT0, []string{regex}},
		{labels.FromStrings("job", "api"), silT0, []string{regex}}, // env absent is != prod
		{labels.FromStrings("job", "api", "env", "prod"), silT0, nil},
		{labels.FromStrings("job", "apis"), silT0, nil}, // regexes are anchored
		{labels.FromStrings("alertname", "Down", "instance", "web-1"), silT0, []string{notRegex}},
		{labels.FromStrings("alertname", "Down", "instance", "db-1"), silT0, nil},
		{labels.FromStrings("alertname", "Down", "instance", "db-1"), silT0.Add(30 * time.Minute), []string{pending}},
		{labels.FromStrings("alertname", "Down"), silT0.Add(30 * time.Minute), sortedIDs(notRegex, pending)},
		{labels.FromStrings("alertname", "Down"), end, nil},
	} {
		got := s.Mutes(tc.lset, tc.at)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Mutes(%s, +%s) = %v, want %v", tc.lset, tc.at.Sub(silT0), got, tc.want)
		}
	}
}

func sortedIDs(ids ...string) []string {
	slices.Sort(ids)
	return ids
}

func TestSilenceQuery(t *testing.T) {
	s, c, _, _ := silencesForTest(t)
	active := mustSet(t, s, &Silence{Matchers: silMatchers(t, "alertname", "=", "Down", "job", "=", "api"), StartsAt: silT0, EndsAt: silT0.Add(silHour)})
	pending := mustSet(t, s, &Silence{Matchers: silMatchers(t, "job", "=~", "web.*"), StartsAt: silT0.Add(silHour), EndsAt: silT0.Add(2 * silHour)})
	expired := mustSet(t, s, &Silence{Matchers: silMatchers(t, "alertname", "=", "Up"), StartsAt: silT0, EndsAt: silT0.Add(silHour)})
	c.set(silT0.Add(time.Minute))
	if err := s.Expire(expired); err != nil {
		t.Fatal(err)
	}
	lset := labels.FromStrings("job", "web-1")
	ids := func(f SilenceFilter) []string {
		t.Helper()
		sils, err := s.Query(f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, sil := range sils {
			out = append(out, sil.ID)
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		name string
		f    SilenceFilter
		want []string
	}{
		{"all", SilenceFilter{}, sortedIDs(active, pending, expired)},
		{"active", SilenceFilter{States: []SilenceState{SilenceStateActive}}, []string{active}},
		{"pending or expired", SilenceFilter{States: []SilenceState{SilenceStatePending, SilenceStateExpired}}, sortedIDs(pending, expired)},
		{"active later", SilenceFilter{States: []SilenceState{SilenceStateActive}, Now: silT0.Add(silHour)}, []string{pending}},
		{"ids", SilenceFilter{IDs: []string{pending, "x"}}, []string{pending}},
		{"labels", SilenceFilter{Labels: &lset}, []string{pending}},
		{"matchers equal", SilenceFilter{Matchers: silMatchers(t, "alertname", "=", "Down")}, []string{active}},
		{"matchers regex", SilenceFilter{Matchers: silMatchers(t, "alertname", "=~", "Down|Up")}, sortedIDs(active, expired)},
		{"matchers two", SilenceFilter{Matchers: silMatchers(t, "alertname", "=", "Down", "job", "=", "api")}, []string{active}},
		{"matchers none", SilenceFilter{Matchers: silMatchers(t, "team", "=", "x")}, nil},
	} {
		if got := ids(tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSilenceGC(t *testing.T) {
	s, c, dir, st := silencesForTest(t)
	ms := silMatchers(t, "a", "=", "1")
	old := mustSet(t, s, &Silence{Matchers: ms, StartsAt: silT0, EndsAt: silT0.Add(silHour)})
	keep := mustSet(t, s, &Silence{Matchers: ms, StartsAt: silT0, EndsAt: silT0.Add(10 * silHour)})
	end := silT0.Add(silHour)
	for _, tc := range []struct {
		at   time.Time
		want int
	}{
		{end, 0},
		{end.Add(DefaultSilenceRetention - time.Nanosecond), 0},
		{end.Add(DefaultSilenceRetention), 1},
		{end.Add(DefaultSilenceRetention), 0},
	} {
		n, err := s.GC(tc.at)
		if err != nil || n != tc.want {
			t.Errorf("GC(+%s) = %d, %v; want %d", tc.at.Sub(end), n, err, tc.want)
		}
	}
	if _, err := s.Get(old); !errors.Is(err, ErrSilenceNotFound) {
		t.Errorf("collected silence: %v", err)
	}
	mustGet(t, s, keep)

	s.SetRetention(time.Hour)
	if n, _ := s.GC(silT0.Add(11 * silHour)); n != 1 {
		t.Errorf("GC with a 1h retention deleted %d, want 1", n)
	}
	// Deletions persist.
	st = reopenStoreForTest(t, st, dir)
	st.Silences().now = c.now
	if all, _ := st.Silences().Query(SilenceFilter{}); len(all) != 0 {
		t.Errorf("%d silences after GC and reopen, want 0", len(all))
	}
}

func TestSilencePersistence(t *testing.T) {
	s, c, dir, st := silencesForTest(t)
	ms := silMatchers(t, "job", "=~", "api|web", "env", "!=", "prod", "x", "!~", "y.*", "alertname", "=", "Down")
	id := mustSet(t, s, &Silence{Matchers: ms, StartsAt: silT0, EndsAt: silT0.Add(silHour), CreatedBy: "ops", Comment: "ünïcode"})
	c.set(silT0.Add(time.Minute))
	upd := mustGet(t, s, id)
	upd.Matchers = ms[:1]
	newID := mustSet(t, s, upd)
	before, err := s.Query(SilenceFilter{})
	if err != nil {
		t.Fatal(err)
	}

	st = reopenStoreForTest(t, st, dir)
	s = st.Silences()
	s.now = c.now
	after, err := s.Query(SilenceFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("%d silences after reopen, want %d", len(after), len(before))
	}
	for i := range before {
		a, b := before[i], after[i]
		if a.ID != b.ID || !a.StartsAt.Equal(b.StartsAt) || !a.EndsAt.Equal(b.EndsAt) || !a.UpdatedAt.Equal(b.UpdatedAt) ||
			a.CreatedBy != b.CreatedBy || a.Comment != b.Comment || !sameMatchers(a.Matchers, b.Matchers) {
			t.Errorf("silence %d after reopen:\n got %+v\nwant %+v", i, b, a)
		}
	}
	if got := s.Mutes(labels.FromStrings("job", "web"), c.now()); !slices.Equal(got, []string{newID}) {
		t.Errorf("Mutes after reopen = %v, want [%s]", got, newID)
	}
}

func TestSilenceConcurrent(t *testing.T) {
	s, _, _, _ := silencesForTest(t)
	ms := silMatchers(t, "a", "=", "1")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 10 {
				id, err := s.Set(&Silence{Matchers: ms, StartsAt: silT0, EndsAt: silT0.Add(silHour)})
				if err != nil {
					t.Error(err)
					return
				}
				s.Mutes(labels.FromStrings("a", "1"), silT0)
				if (i+j)%3 == 0 {
					if err := s.Expire(id); err != nil {
						t.Error(err)
					}
				}
				if _, err := s.Query(SilenceFilter{States: []SilenceState{SilenceStateActive}}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if all, _ := s.Query(SilenceFilter{}); len(all) != 80 {
		t.Errorf("%d silences, want 80", len(all))
	}
}

// TestSilenceValidationAlertmanager checks which matcher sets a silence
// may have, as Alertmanager's validateSilence decides: at least one
// matcher must not match the empty string, where an equality with "" and
// a regular expression matching "" match it, but a negative matcher never
// counts as matching it; and equality values must be valid UTF-8.
func TestSilenceValidationAlertmanager(t *testing.T) {
	end := silT0.Add(silHour)
	for _, tc := range []struct {
		name     string
		matchers []*labels.Matcher
		valid    bool
	}{
		{"equality", silMatchers(t, "a", "=", "b"), true},
		{"equality with empty", silMatchers(t, "a", "=", ""), false},
		{"empty equality and match-all regex", silMatchers(t, "a", "=", "", "b", "=~", ".*"), false},
		{"match-all regex", silMatchers(t, "a", "=~", ".*"), false},
		{"regex with an empty alternative", silMatchers(t, "a", "=~", "x|"), false},
		{"starred regex", silMatchers(t, "a", "=~", "x*"), false},
		{"regex needing a character", silMatchers(t, "a", "=~", ".+"), true},
		{"regex of one value", silMatchers(t, "a", "=~", "x"), true},
		{"negative equality alone", silMatchers(t, "alertname", "!=", "Watchdog"), true},
		{"negative equality with empty", silMatchers(t, "a", "!=", ""), true},
		{"negative regex alone", silMatchers(t, "example", "!~", "silence1.+"), true},
		{"negative regex matching everything", silMatchers(t, "a", "!~", ".*"), true},
		{"empty equality and a negative one", silMatchers(t, "a", "=", "", "b", "!=", "x"), true},
		{"match-all regex and a negative regex", silMatchers(t, "a", "=~", ".*", "b", "!~", "x"), true},
		{"empty equality and a real one", silMatchers(t, "a", "=", "", "b", "=", "x"), true},
		{"equality value not UTF-8", []*labels.Matcher{{Type: labels.MatchEqual, Name: "a", Value: "\xff"}}, false},
		{"negative value not UTF-8", []*labels.Matcher{{Type: labels.MatchNotEqual, Name: "a", Value: "x\xff"}, {Type: labels.MatchEqual, Name: "b", Value: "c"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, _, _ := silencesForTest(t)
			_, err := s.Set(&Silence{Matchers: tc.matchers, StartsAt: silT0, EndsAt: end})
			if tc.valid && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.valid && !errors.Is(err, ErrInvalidSilence) {
				t.Fatalf("got %v, want ErrInvalidSilence", err)
			}
		})
	}
}

// TestSilenceMutesAlertmanager checks which active silences mute an alert,
// with the alert and most silences of Alertmanager's TestQMatches and more
// on empty values, missing labels, anchoring and case: every matcher of a
// silence must match, a missing label matching as the empty value.
func TestSilenceMutesAlertmanager(t *testing.T) {
	s, _, _, _ := silencesForTest(t)
	end := silT0.Add(silHour)
	alert := labels.FromStrings("job", "test", "instance", "web-1", "path", "/user/profile", "method", "GET")
	ids := map[string]string{}
	var want []string
	for _, tc := range []struct {
		name  string
		nov   []string // silMatchers triples
		mutes bool
	}{
		// Alertmanager's TestQMatches, each with one matcher set.
		{"equal", []string{"job", "=", "test"}, true},
		{"not equal", []string{"job", "!=", "test"}, false},
		{"one of two fails", []string{"job", "=", "test", "method", "=", "POST"}, false},
		{"equal and not equal", []string{"job", "=", "test", "method", "!=", "POST"}, true},
		{"regex", []string{"path", "=~", "/user/.+"}, true},
		{"negative regex", []string{"path", "!~", "/user/.+"}, false},
		{"two regexes on one label", []string{"path", "=~", "/user/.+", "path", "=~", "/nothing/.+"}, false},
		// More.
		{"exact path", []string{"path", "=", "/user/profile"}, true},
		{"regex alternatives", []string{"method", "=~", "GET|POST"}, true},
		{"regexes are anchored", []string{"instance", "=~", "web"}, false},
		{"regex with a class", []string{"instance", "=~", `web-\d+`}, true},
		{"regexes are case-sensitive", []string{"job", "=~", "TEST"}, false},
		{"unless they say (?i)", []string{"job", "=~", "(?i)TEST"}, true},
		{"empty value matches a missing label", []string{"env", "=", "", "job", "=", "test"}, true},
		{"empty value does not match a present one", []string{"method", "=", "", "job", "=", "test"}, false},
		{"not empty needs the label", []string{"env", "!=", "", "job", "=", "test"}, false},
		{"not empty with the label", []string{"method", "!=", ""}, true},
		{"negative regex on a missing label", []string{"example", "!~", "silence1.+"}, true},
		{"negative regex refusing the missing label", []string{"example", "!~", "silence1.+|"}, false},
		{"negative equality on a missing label", []string{"alertname", "!=", "Watchdog"}, true},
		{"all of several", []string{"job", "=", "test", "instance", "=~", "web-.*", "path", "!~", "/admin/.*", "method", "!=", "PUT"}, true},
		{"label names are case-sensitive", []string{"Job", "=", "test"}, false},
	} {
		ids[tc.name] = mustSet(t, s, &Silence{Matchers: silMatchers(t, tc.nov...), StartsAt: silT0, EndsAt: end, Comment: tc.name})
		if tc.mutes {
			want = append(want, ids[tc.name])
		}
	}
	slices.Sort(want)
	got := s.Mutes(alert, silT0)
	if !slices.Equal(got, want) {
		names := map[string]string{}
		for n, id := range ids {
			names[id] = n
		}
		var gotNames, wantNames []string
		for _, id := range got {
			gotNames = append(gotNames, names[id])
		}
		for _, id := range want {
			wantNames = append(wantNames, names[id])
		}
		t.Fatalf("muted by:\n got %q\nwant %q", gotNames, wantNames)
	}
	// Only active silences mute.
	if got := s.Mutes(alert, end); len(got) != 0 {
		t.Errorf("expired silences mute: %d", len(got))
	}
	if got := s.Mutes(alert, silT0.Add(-time.Nanosecond)); len(got) != 0 {
		t.Errorf("pending silences mute: %d", len(got))
	}
}

// TestSilenceCanUpdateAlertmanager checks when a silence is updated in
// place rather than replaced, with the cases of Alertmanager's
// TestSilenceCanUpdate: never when expired; when pending, if the new start
// is not in the past; when active, if the start stays in the same second
// (Alertmanager compares Unix seconds, so a start sent back with less
// precision still counts as unchanged) and the new end is not in the past;
// and never when the matchers change.
func TestSilenceCanUpdateAlertmanager(t *testing.T) {
	now := silT0
	ms := silMatchers(t, "a", "=", "1")
	sil := func(start, end time.Duration) *Silence {
		return &Silence{Matchers: ms, StartsAt: now.Add(start), EndsAt: now.Add(end)}
	}
	for _, tc := range []struct {
		name       string
		prev, next *Silence
		ok         bool
	}{
		{"expired", sil(-time.Hour, -time.Second), sil(0, 0), false},
		{"pending, start moved into the past", sil(time.Hour, 2*time.Hour), sil(-time.Minute, time.Hour), false},
		{"pending, start and end moved", sil(time.Hour, 2*time.Hour), sil(time.Minute, time.Minute), true},
		{"pending, start moved to now", sil(time.Hour, 2*time.Hour), sil(0, 2*time.Hour), true},
		{"active, start changed", sil(-time.Hour, 2*time.Hour), sil(-time.Minute, 2*time.Hour), false},
		{"active, end moved into the past", sil(-time.Hour, 2*time.Hour), sil(-time.Hour, -time.Second), false},
		{"active, end moved to now", sil(-time.Hour, 2*time.Hour), sil(-time.Hour, 0), true},
		{"active, end extended", sil(-time.Hour, 2*time.Hour), sil(-time.Hour, 3*time.Hour), true},
		{"active, start within the same second", sil(-time.Hour, 2*time.Hour), sil(-time.Hour+500*time.Millisecond, 3*time.Hour), true},
		{"active, start in the second before", sil(-time.Hour, 2*time.Hour), sil(-time.Hour-time.Millisecond, 3*time.Hour), false},
		{"active, matchers changed", sil(-time.Hour, 2*time.Hour),
			&Silence{Matchers: silMatchers(t, "a", "=", "2"), StartsAt: now.Add(-time.Hour), EndsAt: now.Add(3 * time.Hour)}, false},
		{"active, a matcher's type changed", sil(-time.Hour, 2*time.Hour),
			&Silence{Matchers: silMatchers(t, "a", "!=", "1"), StartsAt: now.Add(-time.Hour), EndsAt: now.Add(3 * time.Hour)}, false},
	} {
		if got := canUpdateSilence(tc.prev, tc.next, now); got != tc.ok {
			t.Errorf("%s: can update %v, want %v", tc.name, got, tc.ok)
		}
	}
}
