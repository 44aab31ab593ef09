//go:build linux

package main

import (
	"fmt"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

// meminfoCollector reports the fields of /proc/meminfo, each as the gauge
// node_memory_<field>: "Active(anon)" becomes Active_anon, and a field in
// kB is given in bytes with a _bytes suffix, as node_exporter names them.
type meminfoCollector struct{ fs procfs.FS }

func newMeminfoCollector(cfg *config, _ hclog.Logger) (collector, error) {
	fs, err := openProcfs(cfg)
	if err != nil {
		return nil, err
	}
	return meminfoCollector{fs: fs}, nil
}

func (c meminfoCollector) update(s *sink) error {
	m, err := c.fs.Meminfo()
	if err != nil {
		return fmt.Errorf("reading memory statistics: %w", err)
	}
	for _, f := range meminfoFields(&m) {
		if f.value == nil {
			continue // not in this kernel's meminfo
		}
		name := "node_memory_" + f.name
		s.send(newFamily(name, "Memory information field "+f.name+".", prometheus.GaugeValue), float64(*f.value))
	}
	return nil
}

// meminfoField is a field of meminfo under node_exporter's name.
type meminfoField struct {
	name  string
	value *uint64
}

// meminfoFields lists m's fields; those the kernel does not have are nil.
func meminfoFields(m *procfs.Meminfo) []meminfoField {
	return []meminfoField{
		{"MemTotal_bytes", m.MemTotalBytes},
		{"MemFree_bytes", m.MemFreeBytes},
		{"MemAvailable_bytes", m.MemAvailableBytes},
		{"Buffers_bytes", m.BuffersBytes},
		{"Cached_bytes", m.CachedBytes},
		{"SwapCached_bytes", m.SwapCachedBytes},
		{"Active_bytes", m.ActiveBytes},
		{"Inactive_bytes", m.InactiveBytes},
		{"Active_anon_bytes", m.ActiveAnonBytes},
		{"Inactive_anon_bytes", m.InactiveAnonBytes},
		{"Active_file_bytes", m.ActiveFileBytes},
		{"Inactive_file_bytes", m.InactiveFileBytes},
		{"Unevictable_bytes", m.UnevictableBytes},
		{"Mlocked_bytes", m.MlockedBytes},
		{"SwapTotal_bytes", m.SwapTotalBytes},
		{"SwapFree_bytes", m.SwapFreeBytes},
		{"Zswap_bytes", m.ZswapBytes},
		{"Zswapped_bytes", m.ZswappedBytes},
		{"Dirty_bytes", m.DirtyBytes},
		{"Writeback_bytes", m.WritebackBytes},
		{"AnonPages_bytes", m.AnonPagesBytes},
		{"Mapped_bytes", m.MappedBytes},
		{"Shmem_bytes", m.ShmemBytes},
		{"Slab_bytes", m.SlabBytes},
		{"SReclaimable_bytes", m.SReclaimableBytes},
		{"SUnreclaim_bytes", m.SUnreclaimBytes},
		{"KernelStack_bytes", m.KernelStackBytes},
		{"PageTables_bytes", m.PageTablesBytes},
		{"SecPageTables_bytes", m.SecPageTablesBytes},
		{"NFS_Unstable_bytes", m.NFSUnstableBytes},
		{"Bounce_bytes", m.BounceBytes},
		{"WritebackTmp_bytes", m.WritebackTmpBytes},
		{"CommitLimit_bytes", m.CommitLimitBytes},
		{"Committed_AS_bytes", m.CommittedASBytes},
		{"VmallocTotal_bytes", m.VmallocTotalBytes},
		{"VmallocUsed_bytes", m.VmallocUsedBytes},
		{"VmallocChunk_bytes", m.VmallocChunkBytes},
		{"Percpu_bytes", m.PercpuBytes},
		{"HardwareCorrupted_bytes", m.HardwareCorruptedBytes},
		{"AnonHugePages_bytes", m.AnonHugePagesBytes},
		{"FileHugePages_bytes", m.FileHugePagesBytes},
		{"ShmemHugePages_bytes", m.ShmemHugePagesBytes},
		{"ShmemPmdMapped_bytes", m.ShmemPmdMappedBytes},
		{"CmaTotal_bytes", m.CmaTotalBytes},
		{"CmaFree_bytes", m.CmaFreeBytes},
		{"Unaccepted_bytes", m.UnacceptedBytes},
		{"HugePages_Total", m.HugePagesTotal},
		{"HugePages_Free", m.HugePagesFree},
		{"HugePages_Rsvd", m.HugePagesRsvd},
		{"HugePages_Surp", m.HugePagesSurp},
		{"Hugepagesize_bytes", m.HugepagesizeBytes},
		{"Hugetlb_bytes", m.HugetlbBytes},
		{"DirectMap4k_bytes", m.DirectMap4kBytes},
		{"DirectMap2M_bytes", m.DirectMap2MBytes},
		{"DirectMap1G_bytes", m.DirectMap1GBytes},
	}
}
