package main

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/prometheus/storage"
	promtsdb "github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/util/compression"
)

// upstreamBackend is github.com/prometheus/prometheus/tsdb as the Prometheus
// server configures it by default.
var upstreamBackend = backend{
	name: "upstream",
	open: openUpstream,
	seal: sealUpstream,
}

// openUpstream opens (or, after a crash, recovers) an upstream TSDB in dir
// with the defaults of the Prometheus server: tsdb.DefaultOptions plus
// snappy WAL compression, which the server enables by default.
func openUpstream(dir string) (storage.Storage, error) {
	opts := promtsdb.DefaultOptions()
	opts.WALCompression = compression.Snappy
	db, err := promtsdb.Open(dir, slog.New(slog.DiscardHandler), nil, opts, nil)
	if err != nil {
		return nil, fmt.Errorf("open upstream tsdb in %s: %w", dir, err)
	}
	return db, nil
}

// sealUpstream writes the whole head into one persistent block with
// CompactHead over a RangeHead spanning all head data (which also truncates
// the head and its WAL), and returns the bytes on disk of the block
// directories (chunks, index, meta.json, tombstones).
//
// What is measured: the blocks only. The WAL checkpoint and the head chunk
// files that remain after the head was truncated hold no samples any more,
// so they are not counted; the whole directory's size is reported beside it
// for reference. Writing one block over the whole range rather than 2 h
// blocks favours upstream slightly, as the index is paid for once.
func sealUpstream(s storage.Storage, dir string) (storage.Storage, sealedSize, error) {
	db, ok := s.(*promtsdb.DB)
	if !ok {
		return nil, sealedSize{}, fmt.Errorf("seal upstream: storage is %T, not *tsdb.DB", s)
	}
	head := db.Head()
	if err := db.CompactHead(promtsdb.NewRangeHead(head, head.MinTime(), head.MaxTime())); err != nil {
		return nil, sealedSize{}, fmt.Errorf("compact upstream head into a block: %w", err)
	}
	var size sealedSize
	for _, b := range db.Blocks() {
		n, err := diskUsage(b.Dir())
		if err != nil {
			return nil, sealedSize{}, fmt.Errorf("measure upstream block: %w", err)
		}
		size.measured += n
	}
	whole, err := diskUsage(dir)
	if err != nil {
		return nil, sealedSize{}, fmt.Errorf("measure upstream directory: %w", err)
	}
	size.wholeDir = whole
	size.what = fmt.Sprintf("%d block dir(s)", len(db.Blocks()))
	return db, size, nil
}
