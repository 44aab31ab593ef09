package scrape

import (
	"math"
	"sync"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// shrinkSlack is by how much the most entries a map of the cache has held
// may exceed twice what it holds now before it is made again at the
// smaller size: Go maps keep their memory when entries are deleted or
// cleared.
const shrinkSlack = 64

// seriesCache remembers what each series a target exposes became, so that
// a series seen before costs neither label parsing, nor relabeling and the
// label limits, nor a lookup by labels in the store. It is keyed by the
// series text the parser returns (the metric name and labels as exposed),
// after a byte for the type of the family the series follows (typeTag).
// What a key becomes depends only on the target's labels and its scrape
// block, which are fixed for the life of a scraper: a changed block starts
// a new scraper, with an empty cache. An entry leaves the cache when two
// scrapes in a row do not expose its key.
//
// A target exposes its series in the same order from one scrape to the
// next, so the cache keeps the entries of the last scrape in the order it
// exposed them, and get first compares a key with the entry that follows,
// in that order, the one it found before: a hit costs a comparison of the
// key, neither hashing it nor probing the map. A series that comes, goes
// or moves costs a lookup in the map, after which get follows the last
// scrape's order from where that series was.
//
// The cache also keeps the series appended by the current scrape and by
// the last good one, by label hash, so that a series that disappears gets
// a stale marker and scrape_series_added counts the new ones. Two maps
// take turns, so a scrape copies no labels and builds no map. A scrape
// that appends the series of the last good one in the same order, as a
// scrape of a target whose series did not change does, fills no map at
// all: while it does, the cache only counts how far it got in the list of
// the last good scrape's series, and it fills the current map only from
// where the scrape departs from that list.
//
// A seriesCache belongs to the goroutine of its scraper's loop.
type seriesCache struct {
	iter    uint64                 // the current scrape, counted from 1
	entries map[string]*cacheEntry // by key
	used    int                    // entries the current scrape used
	peak    int                    // most entries held since entries was made

	// order holds the entries of the last scrape's series in the order it
	// exposed them, next those of the current scrape so far; pos is where
	// in order get looks first.
	order, next []*cacheEntry
	pos         int

	cur, prev map[uint64]*cacheEntry // appended by the current and the last good scrape, by label hash
	genPeak   int                    // most series of a scrape since cur and prev were made

	// good lists the series of prev in the order the last good scrape
	// appended them, repeats included, and appended those of cur. Until
	// diverged is set, the current scrape has appended good[:same] and
	// nothing else, and cur and appended are empty.
	good, appended []*cacheEntry
	same           int
	diverged       bool
}

// cacheEntry is what the series of one key became.
type cacheEntry struct {
	key  string            // its key in entries
	lset labels.Labels     // with the target's labels, after metric_relabel
	hash uint64            // lset.Hash()
	ref  storage.SeriesRef // the store's reference for lset; 0 until it gives one
	iter uint64            // the last scrape that exposed the key
	// slot is where in order or next that scrape exposed it, an int32 so
	// that an entry takes 64 bytes; a target has fewer series.
	slot    int32
	dropped bool // metric_relabel dropped the series
}

func newSeriesCache() *seriesCache {
	return &seriesCache{
		entries: map[string]*cacheEntry{},
		cur:     map[uint64]*cacheEntry{},
		prev:    map[uint64]*cacheEntry{},
	}
}

// begin starts a scrape.
func (c *seriesCache) begin() {
	c.iter++
	c.used = 0
	if c.diverged || c.same != 0 {
		c.restart() // the last scrape neither succeeded nor failed
	}
}

// get returns the entry of key, or nil.
func (c *seriesCache) get(key []byte) *cacheEntry {
	var e *cacheEntry
	if c.pos < len(c.order) && c.order[c.pos].key == string(key) {
		e = c.order[c.pos]
	} else if e = c.entries[string(key)]; e == nil {
		return nil
	}
	if e.iter != c.iter {
		// The first time this scrape exposes the key: e.slot is still
		// where the last scrape that exposed it had it.
		if int(e.slot) < len(c.order) && c.order[e.slot] == e {
			c.pos = int(e.slot) + 1
		}
		e.iter = c.iter
		c.used++
	}
	e.slot = c.nextSlot()
	c.next = append(c.next, e)
	return e
}

// nextSlot returns the slot of the entry that goes next in next.
func (c *seriesCache) nextSlot() int32 { return int32(min(len(c.next), math.MaxInt32)) }

// add remembers that the series of key became lset, or was dropped.
func (c *seriesCache) add(key []byte, lset labels.Labels, dropped bool) *cacheEntry {
	e := &cacheEntry{key: string(key), lset: lset, dropped: dropped, iter: c.iter, slot: c.nextSlot()}
	if !dropped {
		e.hash = lset.Hash()
	}
	c.entries[e.key] = e
	c.next = append(c.next, e)
	c.used++
	return e
}

// track records that the current scrape appended the series of e, and
// reports whether the series is new: neither in the last good scrape nor
// already in this one.
func (c *seriesCache) track(e *cacheEntry) (added bool) {
	if !c.diverged {
		if c.same < len(c.good) && c.good[c.same] == e {
			c.same++
			return false
		}
		c.diverge()
	}
	c.appended = append(c.appended, e)
	n := len(c.cur)
	c.cur[e.hash] = e
	if len(c.cur) == n {
		return false // already appended by this scrape
	}
	_, known := c.prev[e.hash]
	return !known
}

// unchanged reports whether the current scrape has appended exactly the
// series of the last good one, in the same order.
func (c *seriesCache) unchanged() bool { return !c.diverged && c.same == len(c.good) }

// diverge makes the current scrape's series, so far the first of the
// last good scrape's, those of cur and appended: the scrape departs from
// the last good one.
func (c *seriesCache) diverge() {
	for _, e := range c.good[:c.same] {
		c.cur[e.hash] = e
	}
	c.appended = append(c.appended[:0], c.good[:c.same]...)
	c.diverged = true
}

// restart starts the series of a scrape afresh: none appended.
func (c *seriesCache) restart() {
	clear(c.cur)
	clear(c.appended) // no pointers to entries that may leave
	c.appended = c.appended[:0]
	c.same, c.diverged = 0, false
}

// forEachGone calls f for every series of the last good scrape that the
// current scrape did not append.
func (c *seriesCache) forEachGone(f func(*cacheEntry)) {
	if c.unchanged() {
		return
	}
	if !c.diverged {
		c.diverge()
	}
	for hash, e := range c.prev {
		if _, ok := c.cur[hash]; !ok {
			f(e)
		}
	}
}

// succeeded makes the series of the current scrape those of the last good
// scrape.
func (c *seriesCache) succeeded() {
	if c.unchanged() {
		c.same = 0 // prev and good stay as they are
		return
	}
	if !c.diverged {
		c.diverge()
	}
	clear(c.good)
	c.good, c.appended = c.appended, c.good[:0]
	if cap(c.appended) > 2*len(c.good)+shrinkSlack {
		c.appended = nil
	}
	defer c.restart()
	n := len(c.cur)
	if n > c.genPeak {
		c.genPeak = n
	}
	if c.genPeak > 2*n+shrinkSlack {
		// The target exposes far fewer series than it did: give the
		// memory of the larger maps back.
		prev := make(map[uint64]*cacheEntry, n)
		for hash, e := range c.cur {
			prev[hash] = e
		}
		c.prev, c.cur, c.genPeak = prev, make(map[uint64]*cacheEntry, n), n
		return
	}
	c.prev, c.cur = c.cur, c.prev
}

// failed forgets the series of the current scrape: it stores nothing.
func (c *seriesCache) failed() { c.restart() }

// inherit takes the series of the last good scrape of old, the cache of
// the scraper this one replaces for the same target: its first scrape
// marks stale only those it does not append, and counts as added only
// those old did not have, as if one scraper had made both scrapes. What
// keys became is not taken, since a changed block may relabel them
// otherwise; the first scrape compares series by label hash.
func (c *seriesCache) inherit(old *seriesCache) {
	for hash, e := range old.prev {
		c.prev[hash] = e
	}
	c.good = append(c.good[:0], old.good...)
}

// forget forgets the series of the last good scrape, once they are
// marked stale.
func (c *seriesCache) forget() {
	clear(c.prev)
	clear(c.good)
	c.good = c.good[:0]
	c.restart()
}

// end closes a scrape: entries whose key neither this scrape nor the one
// before exposed leave the cache, and the order of this scrape's keys is
// the one the next scrape follows.
func (c *seriesCache) end() {
	clear(c.order) // no pointers to entries that may leave
	if len(c.next) > 0 && cap(c.order) > 2*len(c.next)+shrinkSlack {
		c.order = nil // the target exposes far fewer series than it did
	}
	c.order, c.next, c.pos = c.next, c.order[:0], 0
	n := len(c.entries)
	if n > c.peak {
		c.peak = n
	}
	if n == c.used {
		return
	}
	for key, e := range c.entries {
		if e.iter+1 < c.iter {
			delete(c.entries, key)
		}
	}
	if n = len(c.entries); c.peak > 2*n+shrinkSlack {
		entries := make(map[string]*cacheEntry, n)
		for key, e := range c.entries {
			entries[key] = e
		}
		c.entries, c.peak = entries, n
	}
}

// metadataCache builds the metadata of each scrape from entries it keeps
// by metric family name, so that a family it knows costs no allocation,
// and makes a new map for Metadata only when the metadata changed: a map
// it has published is never written again.
//
// A metadataCache belongs to the goroutine of its scraper's loop, except
// for published, which mu guards.
type metadataCache struct {
	entries map[string]*metaEntry // by metric family name
	used    int                   // entries the current scrape used
	iter    uint64                // the current scrape

	mu        sync.Mutex
	published map[string]Metadata // by metric family name, from the last good scrape
}

// metaEntry is a family's metadata in the published map and in the
// current scrape.
type metaEntry struct {
	name        string
	published   Metadata // in the published map, when inPublished
	inPublished bool
	next        Metadata // what the current scrape says, when iter is the current scrape
	iter        uint64
}

func newMetadataCache() *metadataCache {
	return &metadataCache{entries: map[string]*metaEntry{}}
}

// begin starts scrape iter.
func (c *metadataCache) begin(iter uint64) {
	c.iter = iter
	c.used = 0
}

// entry returns the entry of the family name for the current scrape.
func (c *metadataCache) entry(name []byte) *metaEntry {
	e := c.entries[string(name)]
	if e == nil {
		e = &metaEntry{name: string(name)}
		c.entries[e.name] = e
	}
	if e.iter != c.iter {
		e.iter = c.iter
		e.next = Metadata{}
		c.used++
	}
	return e
}

// setType, setHelp and setUnit record what the current scrape says of a
// family; a help or unit equal to the published one reuses its string.
func (c *metadataCache) setType(name []byte, typ string) {
	c.entry(name).next.Type = typ
}

func (c *metadataCache) setHelp(name, help []byte) {
	e := c.entry(name)
	e.next.Help = reuse(help, e.published.Help)
}

func (c *metadataCache) setUnit(name, unit []byte) {
	e := c.entry(name)
	e.next.Unit = reuse(unit, e.published.Unit)
}

// reuse returns old when b holds the same text, and a copy of b otherwise.
func reuse(b []byte, old string) string {
	if string(b) == old {
		return old
	}
	return string(b)
}

// succeeded publishes the metadata of the current scrape, a good one, if
// it differs from the published metadata. Families it did not mention
// leave the cache.
func (c *metadataCache) succeeded() {
	changed := c.published == nil || c.used != len(c.published)
	for name, e := range c.entries {
		switch {
		case e.iter != c.iter:
			delete(c.entries, name)
		case !e.inPublished || e.next != e.published:
			changed = true
		}
	}
	if !changed {
		return
	}
	published := make(map[string]Metadata, len(c.entries))
	for _, e := range c.entries {
		e.published, e.inPublished = e.next, true
		published[e.name] = e.next
	}
	c.mu.Lock()
	c.published = published
	c.mu.Unlock()
}

// failed drops the families that only failed scrapes mentioned; the
// published metadata stays.
func (c *metadataCache) failed() {
	for name, e := range c.entries {
		if !e.inPublished {
			delete(c.entries, name)
		}
	}
}

// get returns the published metadata. The caller must not change it.
func (c *metadataCache) get() map[string]Metadata {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.published
}
