package tsdb

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/index"
)

// headPostings are the postings of the series in memory: upstream's
// MemPostings, and an overlay for the series brought back from badger
// (evict.go). MemPostings takes references in increasing order, as series
// are created; a list gets an older one by moving its entries in place,
// under the feet of the queries that read the list without a lock. The
// overlay's lists are replaced, never changed; the maintenance folds them
// into a new MemPostings, built in reference order, and swaps it in.
//
// Writers hold DB.createMu. Readers read the overlay before MemPostings:
// a fold swaps MemPostings before it clears the overlay, so a reader finds
// a series in one or both.
type headPostings struct {
	main atomic.Pointer[index.MemPostings]

	mu     sync.RWMutex
	back   map[string]map[string][]storage.SeriesRef // name -> value -> sorted refs
	nBack  int                                       // series in the overlay
	allKey labels.Label
}

func newHeadPostings() *headPostings {
	p := &headPostings{back: map[string]map[string][]storage.SeriesRef{}}
	p.allKey.Name, p.allKey.Value = index.AllPostingsKey()
	p.main.Store(index.NewMemPostings())
	return p
}

// Add adds a series whose reference is larger than every reference added before.
func (p *headPostings) Add(ref storage.SeriesRef, lset labels.Labels) {
	p.main.Load().Add(ref, lset)
}

// AddBack adds a series brought back from badger, whose reference may be
// smaller than others in the lists.
func (p *headPostings) AddBack(ref storage.SeriesRef, lset labels.Labels) {
	p.mu.Lock()
	defer p.mu.Unlock()
	insert := func(l labels.Label) {
		values := p.back[l.Name]
		if values == nil {
			values = map[string][]storage.SeriesRef{}
			p.back[l.Name] = values
		}
		old := values[l.Value]
		i, found := slices.BinarySearch(old, ref)
		if found {
			return
		}
		values[l.Value] = slices.Insert(slices.Clip(old), i, ref)
	}
	lset.Range(insert)
	insert(p.allKey)
	p.nBack++
}

// Delete removes the series deleted, whose labels are in affected.
func (p *headPostings) Delete(deleted map[storage.SeriesRef]struct{}, affected map[labels.Label]struct{}) {
	p.main.Load().Delete(deleted, affected)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.nBack == 0 {
		return
	}
	remove := func(l labels.Label) {
		old := p.back[l.Name][l.Value]
		kept := slices.DeleteFunc(slices.Clone(old), func(ref storage.SeriesRef) bool {
			_, ok := deleted[ref]
			return ok
		})
		switch {
		case len(kept) == len(old):
		case len(kept) == 0:
			delete(p.back[l.Name], l.Value)
			if len(p.back[l.Name]) == 0 {
				delete(p.back, l.Name)
			}
		default:
			p.back[l.Name][l.Value] = kept
		}
	}
	for l := range affected {
		remove(l)
	}
	before := len(p.back[p.allKey.Name][p.allKey.Value])
	remove(p.allKey)
	p.nBack -= before - len(p.back[p.allKey.Name][p.allKey.Value])
}

// fold moves the series of the overlay into a new MemPostings holding
// every series of forEach, which calls its function in reference order.
func (p *headPostings) fold(forEach func(func(*memSeries))) {
	p.mu.RLock()
	n := p.nBack
	p.mu.RUnlock()
	if n == 0 {
		return
	}
	fresh := index.NewMemPostings()
	forEach(func(s *memSeries) { fresh.Add(storage.SeriesRef(s.ref), s.lset) })
	p.main.Store(fresh)
	p.mu.Lock()
	clear(p.back)
	p.nBack = 0
	p.mu.Unlock()
}

// backLists returns the overlay's lists of label name whose value
// passes match, or of values when match is nil.
func (p *headPostings) backLists(name string, values []string, match func(string) bool) []index.Postings {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.nBack == 0 {
		return nil
	}
	var out []index.Postings
	if match == nil {
		for _, v := range values {
			if list := p.back[name][v]; len(list) > 0 {
				out = append(out, index.NewListPostings(list))
			}
		}
		return out
	}
	for v, list := range p.back[name] {
		if match(v) {
			out = append(out, index.NewListPostings(list))
		}
	}
	return out
}

// Postings returns the series with label name set to one of values.
func (p *headPostings) Postings(ctx context.Context, name string, values ...string) index.Postings {
	back := p.backLists(name, values, nil)
	main := p.main.Load().Postings(ctx, name, values...)
	if len(back) == 0 {
		return main
	}
	return index.Merge(ctx, append(back, main)...)
}

// PostingsForLabelMatching returns the series with a value of label name
// that passes match.
func (p *headPostings) PostingsForLabelMatching(ctx context.Context, name string, match func(string) bool) index.Postings {
	back := p.backLists(name, nil, match)
	main := p.main.Load().PostingsForLabelMatching(ctx, name, match)
	if len(back) == 0 {
		return main
	}
	return index.Merge(ctx, append(back, main)...)
}

// PostingsForAllLabelValues returns the series with label name.
func (p *headPostings) PostingsForAllLabelValues(ctx context.Context, name string) index.Postings {
	back := p.backLists(name, nil, func(string) bool { return true })
	main := p.main.Load().PostingsForAllLabelValues(ctx, name)
	if len(back) == 0 {
		return main
	}
	return index.Merge(ctx, append(back, main)...)
}

// LabelValues returns the values of label name, unsorted, in a slice of
// the caller's.
func (p *headPostings) LabelValues(ctx context.Context, name string) []string {
	p.mu.RLock()
	var back []string
	for v := range p.back[name] {
		back = append(back, v)
	}
	p.mu.RUnlock()
	values := slices.Clone(p.main.Load().LabelValues(ctx, name, nil))
	if len(back) == 0 {
		return values
	}
	values = append(values, back...)
	slices.Sort(values)
	return slices.Compact(values)
}

// LabelNames returns the label names, unsorted.
func (p *headPostings) LabelNames() []string {
	p.mu.RLock()
	var back []string
	for name := range p.back {
		if name != p.allKey.Name {
			back = append(back, name)
		}
	}
	p.mu.RUnlock()
	names := p.main.Load().LabelNames()
	if len(back) == 0 {
		return names
	}
	names = append(names, back...)
	slices.Sort(names)
	return slices.Compact(names)
}

// Symbols returns every label name and value, sorted.
func (p *headPostings) Symbols() index.StringIter {
	p.mu.RLock()
	var back []string
	for name, values := range p.back {
		if name == p.allKey.Name {
			continue
		}
		back = append(back, name)
		for v := range values {
			back = append(back, v)
		}
	}
	p.mu.RUnlock()
	main := p.main.Load().Symbols()
	if len(back) == 0 {
		return main
	}
	for main.Next() {
		back = append(back, main.At())
	}
	slices.Sort(back)
	return index.NewStringListIter(slices.Compact(back))
}

// Stats returns the cardinality statistics of MemPostings; the series of
// the overlay join them at the next fold.
func (p *headPostings) Stats(label string, limit int, labelSizeFunc func(string, string, uint64) uint64) *index.PostingsStats {
	return p.main.Load().Stats(label, limit, labelSizeFunc)
}

// Iter calls f for each label pair of MemPostings and its postings; the
// series of the overlay join them at the next fold, as for Stats.
func (p *headPostings) Iter(f func(labels.Label, index.Postings) error) error {
	return p.main.Load().Iter(f)
}
