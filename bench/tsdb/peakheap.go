package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

// peakHeapSampler follows the live heap that the garbage collector found
// at the end of each collection (runtime/metrics /gc/heap/live:bytes) and
// keeps its highest value. The peak RSS of a Go process is about what the
// heap grew to before a collection, and the collector lets it grow to
// twice the live heap it found last (GOGC=100), so the peak live heap
// says what raised the peak RSS, whatever the timing of the collections.
// With a profile path, it writes a heap profile each time the peak grows
// by a tenth: the profile's in-use figures are those of the last
// collection, so the last one written shows what the peak was made of.
type peakHeapSampler struct {
	profile string
	stop    chan struct{}
	done    chan struct{}
	peak    uint64
	err     error
}

// peakHeapEvery is how often the sampler reads the live heap.
const peakHeapEvery = 20 * time.Millisecond

// startPeakHeap starts a sampler; profile, unless empty, is the path of
// the heap profile at the peak.
func startPeakHeap(profile string) *peakHeapSampler {
	p := &peakHeapSampler{profile: profile, stop: make(chan struct{}), done: make(chan struct{})}
	go p.run()
	return p
}

func (p *peakHeapSampler) run() {
	defer close(p.done)
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	tick := time.NewTicker(peakHeapEvery)
	defer tick.Stop()
	var profiled uint64
	for {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			if live := sample[0].Value.Uint64(); live > p.peak {
				p.peak = live
				if p.profile != "" && p.err == nil && live > profiled+profiled/10 {
					profiled = live
					p.err = writeHeapProfileNoGC(p.profile)
				}
			}
		}
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
	}
}

// finish stops the sampler and returns the peak live heap.
func (p *peakHeapSampler) finish() (uint64, error) {
	close(p.stop)
	<-p.done
	return p.peak, p.err
}

// writeHeapProfileNoGC writes the heap profile as of the last collection,
// without running one.
func writeHeapProfileNoGC(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create the profile directory: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create heap profile: %w", err)
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		_ = f.Close()
		return fmt.Errorf("write heap profile %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close heap profile %s: %w", path, err)
	}
	return nil
}
