package main

import (
	"fmt"
	"strings"

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
	return openVigilWith(dir, vigiltsdb.Options{})
}

// openVigilWith opens a Vigil TSDB in dir with opts, its logger one that
// discards unless opts has one.
func openVigilWith(dir string, opts vigiltsdb.Options) (storage.Storage, error) {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	db, err := vigiltsdb.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("open vigil tsdb in %s: %w", dir, err)
	}
	return db, nil
}

// sealVigil seals every open head chunk into badger (Flush), closes the
// store so that badger writes its memtables into tables, reopens it and
// runs Compact, which has badger merge its tables and drop the deleted
// write-ahead records. The figure is badger's tables and manifest: the
// sealed chunks and the series index, as the upstream figure is its blocks.
// The value log holds only deleted write-ahead records by then; the whole
// directory, with it, is reported for reference. The queries then run on
// the reopened, quiescent store.
func sealVigil(s storage.Storage, dir string) (storage.Storage, sealedSize, error) {
	db, ok := s.(*vigiltsdb.DB)
	if !ok {
		return nil, sealedSize{}, fmt.Errorf("seal vigil: storage is %T, not *tsdb.DB", s)
	}
	if err := db.Flush(); err != nil {
		return nil, sealedSize{}, fmt.Errorf("flush vigil tsdb: %w", err)
	}
	if err := db.Close(); err != nil {
		return nil, sealedSize{}, fmt.Errorf("close vigil tsdb: %w", err)
	}
	reopened, err := openVigil(dir)
	if err != nil {
		return nil, sealedSize{}, err
	}
	if err := reopened.(*vigiltsdb.DB).Compact(); err != nil {
		return nil, sealedSize{}, fmt.Errorf("compact vigil tsdb: %w", err)
	}
	tables, err := filesUsage(dir, func(name string) bool {
		return strings.HasSuffix(name, ".sst") || name == "MANIFEST"
	})
	if err != nil {
		return nil, sealedSize{}, fmt.Errorf("measure vigil tables: %w", err)
	}
	whole, err := diskUsage(dir)
	if err != nil {
		return nil, sealedSize{}, fmt.Errorf("measure vigil directory: %w", err)
	}
	return reopened, sealedSize{measured: tables, wholeDir: whole, what: "badger tables"}, nil
}
