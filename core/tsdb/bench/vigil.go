package main

import (
	"fmt"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/prometheus/storage"

	vigiltsdb "github.com/vigilmon/vigil/core/tsdb"
)

// vigilBackend is Vigil's core/tsdb with its default options.
var vigilBackend = backend{
	name: "vigil",
	open: openVigil,
	seal: sealVigil,
}

var _ storage.Storage = (*vigiltsdb.DB)(nil)

// openVigil opens (or, after a crash, recovers) a Vigil TSDB in dir with the
// zero Options, i.e. its defaults, and a logger that discards.
func openVigil(dir string) (storage.Storage, error) {
	db, err := vigiltsdb.Open(dir, vigiltsdb.Options{Logger: hclog.NewNullLogger()})
	if err != nil {
		return nil, fmt.Errorf("open vigil tsdb in %s: %w", dir, err)
	}
	return db, nil
}

// sealVigil calls Compact, which seals every open head chunk into badger,
// drops the write-ahead records they covered and runs badger's compaction
// and garbage collection, and returns the bytes on disk of the whole
// directory (badger's tables, value log and manifest and whatever
// write-ahead records remain).
func sealVigil(s storage.Storage, dir string) (sealedSize, error) {
	db, ok := s.(*vigiltsdb.DB)
	if !ok {
		return sealedSize{}, fmt.Errorf("seal vigil: storage is %T, not *tsdb.DB", s)
	}
	if err := db.Compact(); err != nil {
		return sealedSize{}, fmt.Errorf("compact vigil tsdb: %w", err)
	}
	whole, err := diskUsage(dir)
	if err != nil {
		return sealedSize{}, fmt.Errorf("measure vigil directory: %w", err)
	}
	return sealedSize{measured: whole, wholeDir: whole, what: "whole directory"}, nil
}
