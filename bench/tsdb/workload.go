package main

import (
	"context"
	"fmt"
	"github.com/prometheus/common/model"
	"math"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/vigilmon/vigil/bench/harness"
)

// scrapeInterval is the time between two scrapes of one target.
const scrapeInterval = 15 * time.Second

// maxJitter bounds the random delay added to every scrape's timestamp, as
// a real scraper never fires exactly on its 15 s grid.
const maxJitter = 5 * time.Millisecond

// jobs are the values of the job label; targets are spread over them evenly.
var jobs = []string{"node", "node-db", "node-web", "node-cache", "node-batch"}

// seriesKind selects the value model of one series.
type seriesKind uint8

const (
	kindConst   seriesKind = iota // gauge that never changes
	kindSlow                      // gauge that changes by a step now and then
	kindCounter                   // counter with uneven increments
	kindNoisy                     // float gauge that moves at every scrape
)

// Share of each kind in a target, in series per target. Together they make
// the node_exporter-like mix the benchmark asks for: 60% constant or
// slow-changing gauges, 30% counters, 10% noisy gauges.
const (
	seriesPerTarget   = 500
	gaugesPerTarget   = 300 // kindConst and kindSlow
	countersPerTarget = 150
	noisyPerTarget    = 50
)

// seriesSpec describes one series of a target: its labels and the
// parameters of its value model.
type seriesSpec struct {
	lset labels.Labels
	kind seriesKind
	// base is the first value (counters, gauges) or the mean (noisy gauges).
	base float64
	// step is the typical change per scrape (counters, noisy gauges) or the
	// size of an occasional change (slow gauges).
	step float64
	// quantum is the resolution values are rounded to (1 for byte and packet
	// counts, 0.01 for CPU seconds, ...); 0 keeps full float precision.
	quantum float64
}

// target is one scraped instance: every series of it is appended in one
// Commit per scrape.
type target struct {
	job      string
	instance string
	// phase is where in the scrape interval this target is scraped, as
	// Prometheus spreads targets over the interval.
	phase  time.Duration
	series []seriesSpec
}

// workload is a deterministic set of targets and a time range. Ingesting it
// twice yields identical samples, so both stores receive the same data.
type workload struct {
	targets []target
	start   time.Time // timestamp of the first scrape round (before phase)
	rounds  int       // scrape rounds
	seed    uint64
	// active, unless 0, makes the workload churn: each round scrapes only
	// this many targets, a window that slides from the first targets to
	// the last over the rounds, as pods roll and new ones replace them.
	// The targets are then built when they enter the window and dropped
	// when they leave it (see ingester.slide); until then they are zero.
	active int
}

// numSeries returns the number of series of the workload, over all rounds.
func (w *workload) numSeries() int {
	return len(w.targets) * seriesPerTarget
}

// numSamples returns the number of samples one ingest of the workload appends.
func (w *workload) numSamples() int64 {
	lo, hi := w.window(0)
	return int64(hi-lo) * seriesPerTarget * int64(w.rounds)
}

// window returns the targets [lo, hi) that round r scrapes: all of them,
// or for a churning workload the active ones, starting at the first
// targets in round 0 and ending at the last ones in the last round.
func (w *workload) window(r int) (lo, hi int) {
	if w.active == 0 {
		return 0, len(w.targets)
	}
	lo = r * (len(w.targets) - w.active) / max(w.rounds-1, 1)
	return lo, lo + w.active
}

// end returns a time after the last sample of the workload: every sample
// lies in [start, end).
func (w *workload) end() time.Time {
	return w.start.Add(time.Duration(w.rounds)*scrapeInterval + maxJitter)
}

// newWorkload builds a workload of at least numSeries series (rounded up to
// whole targets) covering span, with scrapes starting at start.
func newWorkload(numSeries int, span time.Duration, start time.Time, seed uint64) *workload {
	numTargets := (numSeries + seriesPerTarget - 1) / seriesPerTarget
	w := &workload{
		targets: make([]target, numTargets),
		start:   start,
		rounds:  int(span / scrapeInterval),
		seed:    seed,
	}
	for i := range w.targets {
		w.targets[i] = newNodeTarget(i, seed)
	}
	return w
}

// newWindowedWorkload builds a workload of at least numSeries series in
// all, of which activeSeries (both rounded up to whole targets) are scraped
// in each round, covering span from start: a churning one when
// activeSeries is the smaller. Its targets are built during the ingest, as
// they enter the window.
func newWindowedWorkload(numSeries, activeSeries int, span time.Duration, start time.Time, seed uint64) *workload {
	numTargets := (numSeries + seriesPerTarget - 1) / seriesPerTarget
	active := (activeSeries + seriesPerTarget - 1) / seriesPerTarget
	return &workload{
		targets: make([]target, numTargets),
		start:   start,
		rounds:  int(span / scrapeInterval),
		seed:    seed,
		active:  min(active, numTargets),
	}
}

// family is a metric of node_exporter with its label dimensions; it expands
// to the cartesian product of its dimensions.
type family struct {
	name    string
	kind    seriesKind
	dims    [][]labels.Labels // each dimension lists alternative label sets
	base    float64
	step    float64
	quantum float64
}

// dim builds a dimension of one label name with the given values.
func dim(name string, values ...string) []labels.Labels {
	out := make([]labels.Labels, len(values))
	for i, v := range values {
		out[i] = labels.FromStrings(name, v)
	}
	return out
}

// numbered returns the strings prefix0 .. prefix(n-1).
func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return out
}

// nodeFamilies lists the metric families of the synthetic node_exporter
// target. Kind counts are padded to the per-target shares in newNodeTarget.
func nodeFamilies() []family {
	cpus := dim("cpu", numbered("", 8)...)
	modes := dim("mode", "idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user")
	netdevs := dim("device", "eth0", "eth1", "lo", "docker0")
	disks := dim("device", "sda", "sdb", "nvme0n1", "dm-0")
	filesystems := []labels.Labels{
		labels.FromStrings("device", "/dev/sda1", "fstype", "ext4", "mountpoint", "/"),
		labels.FromStrings("device", "/dev/sda2", "fstype", "ext4", "mountpoint", "/var"),
		labels.FromStrings("device", "/dev/sdb1", "fstype", "xfs", "mountpoint", "/data"),
		labels.FromStrings("device", "/dev/nvme0n1p1", "fstype", "xfs", "mountpoint", "/scratch"),
		labels.FromStrings("device", "tmpfs", "fstype", "tmpfs", "mountpoint", "/run"),
		labels.FromStrings("device", "tmpfs", "fstype", "tmpfs", "mountpoint", "/dev/shm"),
		labels.FromStrings("device", "overlay", "fstype", "overlay", "mountpoint", "/var/lib/docker/overlay2"),
		labels.FromStrings("device", "/dev/sda3", "fstype", "vfat", "mountpoint", "/boot/efi"),
	}
	collectors := dim("collector", "arp", "bcache", "bonding", "btrfs", "conntrack", "cpu", "cpufreq",
		"diskstats", "dmi", "edac", "entropy", "fibrechannel", "filefd", "filesystem", "hwmon",
		"infiniband", "ipvs", "loadavg", "mdadm", "meminfo", "netclass", "netdev", "netstat", "nfs",
		"nfsd", "nvme", "os", "powersupplyclass", "pressure", "rapl", "schedstat", "selinux",
		"sockstat", "softnet", "stat", "tapestats", "textfile", "thermal_zone", "time", "timex",
		"udp_queues", "uname", "vmstat", "watchdog", "xfs", "zfs")
	none := [][]labels.Labels(nil)
	return []family{
		// Counters.
		{name: "node_cpu_seconds_total", kind: kindCounter, dims: [][]labels.Labels{cpus, modes}, base: 1e5, step: 1.9, quantum: 0.01},
		{name: "node_network_receive_bytes_total", kind: kindCounter, dims: [][]labels.Labels{netdevs}, base: 1e11, step: 4e6, quantum: 1},
		{name: "node_network_transmit_bytes_total", kind: kindCounter, dims: [][]labels.Labels{netdevs}, base: 8e10, step: 3e6, quantum: 1},
		{name: "node_network_receive_packets_total", kind: kindCounter, dims: [][]labels.Labels{netdevs}, base: 1e8, step: 4e3, quantum: 1},
		{name: "node_network_transmit_packets_total", kind: kindCounter, dims: [][]labels.Labels{netdevs}, base: 9e7, step: 3e3, quantum: 1},
		{name: "node_network_receive_errs_total", kind: kindCounter, dims: [][]labels.Labels{netdevs}, base: 3, step: 0.01, quantum: 1},
		{name: "node_network_receive_drop_total", kind: kindCounter, dims: [][]labels.Labels{netdevs}, base: 120, step: 0.2, quantum: 1},
		{name: "node_network_transmit_errs_total", kind: kindCounter, dims: [][]labels.Labels{netdevs}, base: 0, step: 0.005, quantum: 1},
		{name: "node_network_transmit_drop_total", kind: kindCounter, dims: [][]labels.Labels{netdevs}, base: 10, step: 0.05, quantum: 1},
		{name: "node_disk_reads_completed_total", kind: kindCounter, dims: [][]labels.Labels{disks}, base: 5e7, step: 900, quantum: 1},
		{name: "node_disk_writes_completed_total", kind: kindCounter, dims: [][]labels.Labels{disks}, base: 9e7, step: 1500, quantum: 1},
		{name: "node_disk_read_bytes_total", kind: kindCounter, dims: [][]labels.Labels{disks}, base: 2e12, step: 3e7, quantum: 512},
		{name: "node_disk_written_bytes_total", kind: kindCounter, dims: [][]labels.Labels{disks}, base: 4e12, step: 6e7, quantum: 512},
		{name: "node_disk_io_time_seconds_total", kind: kindCounter, dims: [][]labels.Labels{disks}, base: 3e5, step: 2.1, quantum: 0.001},
		{name: "node_schedstat_running_seconds_total", kind: kindCounter, dims: [][]labels.Labels{cpus}, base: 8e5, step: 5.5, quantum: 1e-9},
		{name: "node_schedstat_waiting_seconds_total", kind: kindCounter, dims: [][]labels.Labels{cpus}, base: 1e5, step: 0.7, quantum: 1e-9},
		{name: "node_schedstat_timeslices_total", kind: kindCounter, dims: [][]labels.Labels{cpus}, base: 4e9, step: 3e4, quantum: 1},
		{name: "node_intr_total", kind: kindCounter, dims: none, base: 9e10, step: 6e5, quantum: 1},
		{name: "node_context_switches_total", kind: kindCounter, dims: none, base: 2e11, step: 1.2e6, quantum: 1},
		{name: "node_forks_total", kind: kindCounter, dims: none, base: 3e7, step: 200, quantum: 1},

		// Noisy gauges.
		{name: "node_load1", kind: kindNoisy, dims: none, base: 1.2, step: 0.3, quantum: 0.01},
		{name: "node_load5", kind: kindNoisy, dims: none, base: 1.1, step: 0.1, quantum: 0.01},
		{name: "node_load15", kind: kindNoisy, dims: none, base: 1.0, step: 0.05, quantum: 0.01},
		{name: "node_memory_MemFree_bytes", kind: kindNoisy, dims: none, base: 4e9, step: 5e7, quantum: 4096},
		{name: "node_memory_MemAvailable_bytes", kind: kindNoisy, dims: none, base: 2e10, step: 5e7, quantum: 4096},
		{name: "node_memory_Cached_bytes", kind: kindNoisy, dims: none, base: 1.5e10, step: 2e7, quantum: 4096},
		{name: "node_memory_Active_bytes", kind: kindNoisy, dims: none, base: 1e10, step: 3e7, quantum: 4096},
		{name: "node_memory_Dirty_bytes", kind: kindNoisy, dims: none, base: 5e6, step: 2e6, quantum: 4096},
		{name: "node_cpu_scaling_frequency_hertz", kind: kindNoisy, dims: [][]labels.Labels{cpus}, base: 2.4e9, step: 3e8, quantum: 1e3},
		{name: "node_procs_running", kind: kindNoisy, dims: none, base: 4, step: 2, quantum: 1},
		{name: "node_sockstat_TCP_inuse", kind: kindNoisy, dims: none, base: 300, step: 20, quantum: 1},
		{name: "node_sockstat_TCP_tw", kind: kindNoisy, dims: none, base: 150, step: 30, quantum: 1},
		{name: "node_filefd_allocated", kind: kindNoisy, dims: none, base: 9000, step: 80, quantum: 1},
		{name: "node_timex_offset_seconds", kind: kindNoisy, dims: none, base: 0, step: 2e-5, quantum: 0},
		{name: "node_timex_estimated_error_seconds", kind: kindNoisy, dims: none, base: 1e-4, step: 1e-5, quantum: 0},
		{name: "node_disk_io_now", kind: kindNoisy, dims: [][]labels.Labels{disks}, base: 2, step: 2, quantum: 1},
		{name: "scrape_duration_seconds", kind: kindNoisy, dims: none, base: 0.04, step: 0.01, quantum: 0},

		// Constant and slow-changing gauges.
		{name: "up", kind: kindConst, dims: none, base: 1},
		{name: "scrape_samples_scraped", kind: kindConst, dims: none, base: seriesPerTarget - 5},
		{name: "scrape_series_added", kind: kindConst, dims: none, base: 0},
		{name: "node_scrape_collector_success", kind: kindConst, dims: [][]labels.Labels{collectors}, base: 1},
		{name: "node_boot_time_seconds", kind: kindConst, dims: none, base: 1.7e9},
		{name: "node_memory_MemTotal_bytes", kind: kindConst, dims: none, base: 6.7e10},
		{name: "node_memory_SwapTotal_bytes", kind: kindConst, dims: none, base: 8.5e9},
		{name: "node_cpu_online", kind: kindConst, dims: [][]labels.Labels{cpus}, base: 1},
		{name: "node_cpu_scaling_frequency_max_hertz", kind: kindConst, dims: [][]labels.Labels{cpus}, base: 3.6e9},
		{name: "node_cpu_scaling_frequency_min_hertz", kind: kindConst, dims: [][]labels.Labels{cpus}, base: 8e8},
		{name: "node_filesystem_size_bytes", kind: kindConst, dims: [][]labels.Labels{filesystems}, base: 5e11},
		{name: "node_filesystem_files", kind: kindConst, dims: [][]labels.Labels{filesystems}, base: 3e7},
		{name: "node_filesystem_readonly", kind: kindConst, dims: [][]labels.Labels{filesystems}, base: 0},
		{name: "node_filesystem_device_error", kind: kindConst, dims: [][]labels.Labels{filesystems}, base: 0},
		{name: "node_filesystem_avail_bytes", kind: kindSlow, dims: [][]labels.Labels{filesystems}, base: 2e11, step: 4096 * 256},
		{name: "node_filesystem_free_bytes", kind: kindSlow, dims: [][]labels.Labels{filesystems}, base: 2.2e11, step: 4096 * 256},
		{name: "node_filesystem_files_free", kind: kindSlow, dims: [][]labels.Labels{filesystems}, base: 2.9e7, step: 40},
		{name: "node_network_up", kind: kindConst, dims: [][]labels.Labels{netdevs}, base: 1},
		{name: "node_network_mtu_bytes", kind: kindConst, dims: [][]labels.Labels{netdevs}, base: 1500},
		{name: "node_network_speed_bytes", kind: kindConst, dims: [][]labels.Labels{netdevs}, base: 1.25e9},
		{name: "node_network_carrier", kind: kindConst, dims: [][]labels.Labels{netdevs}, base: 1},
		{name: "node_network_transmit_queue_length", kind: kindConst, dims: [][]labels.Labels{netdevs}, base: 1000},
		{name: "node_network_iface_id", kind: kindConst, dims: [][]labels.Labels{netdevs}, base: 2},
		{name: "node_network_flags", kind: kindConst, dims: [][]labels.Labels{netdevs}, base: 4099},
		{name: "node_network_protocol_type", kind: kindConst, dims: [][]labels.Labels{netdevs}, base: 1},
		{name: "node_disk_info", kind: kindConst, dims: [][]labels.Labels{disks}, base: 1},
		{name: "node_nf_conntrack_entries_limit", kind: kindConst, dims: none, base: 262144},
		{name: "node_nf_conntrack_entries", kind: kindSlow, dims: none, base: 1800, step: 25},
		{name: "node_procs_blocked", kind: kindSlow, dims: none, base: 0, step: 1},
		{name: "node_entropy_available_bits", kind: kindSlow, dims: none, base: 256, step: 1},
		{name: "node_textfile_scrape_error", kind: kindConst, dims: none, base: 0},
		{name: "node_time_zone_offset_seconds", kind: kindConst, dims: none, base: 0},
	}
}

// padding families complete each kind up to its per-target share; their
// label values are numbered, like hwmon sensors or meminfo fields are.
var (
	padGauge   = family{name: "node_memory_field_bytes", kind: kindConst, base: 1 << 20}
	padSlow    = family{name: "node_hwmon_fan_rpm", kind: kindSlow, base: 800, step: 100}
	padCounter = family{name: "node_vmstat_events_total", kind: kindCounter, base: 1e6, step: 50, quantum: 1}
	padNoisy   = family{name: "node_hwmon_temp_celsius", kind: kindNoisy, base: 45, step: 1.5, quantum: 0.5}
)

// newNodeTarget builds target i: its job, instance and series.
func newNodeTarget(i int, seed uint64) target {
	t := target{
		job:      jobs[i%len(jobs)],
		instance: fmt.Sprintf("node-%05d:9100", i),
		phase:    time.Duration(harness.Mix(seed, uint64(i), 0xfa5e) % uint64(scrapeInterval)),
	}
	counts := map[seriesKind]int{}
	add := func(f family, extra labels.Labels) {
		b := labels.NewScratchBuilder(8)
		b.Add(model.MetricNameLabel, f.name)
		b.Add("instance", t.instance)
		b.Add("job", t.job)
		extra.Range(func(l labels.Label) { b.Add(l.Name, l.Value) })
		b.Sort()
		n := uint64(len(t.series))
		h := harness.Mix(seed, uint64(i), n)
		// Vary the base per series and target so that not every instance
		// reports identical numbers.
		scale := 0.5 + float64(h%1000)/1000
		t.series = append(t.series, seriesSpec{
			lset:    b.Labels(),
			kind:    f.kind,
			base:    roundTo(f.base*scale, f.quantum),
			step:    f.step * scale,
			quantum: f.quantum,
		})
		counts[f.kind]++
	}
	for _, f := range nodeFamilies() {
		for _, extra := range cartesian(f.dims) {
			add(f, extra)
		}
	}
	pad := func(f family, n int, labelName string) {
		for k := 0; k < n; k++ {
			add(f, labels.FromStrings(labelName, "f"+strconv.Itoa(k)))
		}
	}
	gauges := counts[kindConst] + counts[kindSlow]
	if gauges > gaugesPerTarget || counts[kindCounter] > countersPerTarget || counts[kindNoisy] > noisyPerTarget {
		panic(fmt.Sprintf("node families exceed the per-target shares: gauges=%d counters=%d noisy=%d",
			gauges, counts[kindCounter], counts[kindNoisy]))
	}
	slowPad := (gaugesPerTarget - gauges) / 3
	pad(padSlow, slowPad, "sensor")
	pad(padGauge, gaugesPerTarget-gauges-slowPad, "field")
	pad(padCounter, countersPerTarget-counts[kindCounter], "event")
	pad(padNoisy, noisyPerTarget-counts[kindNoisy], "sensor")
	return t
}

// cartesian expands label dimensions to every combination of their values.
func cartesian(dims [][]labels.Labels) []labels.Labels {
	out := []labels.Labels{labels.EmptyLabels()}
	for _, d := range dims {
		next := make([]labels.Labels, 0, len(out)*len(d))
		for _, prefix := range out {
			for _, ls := range d {
				b := labels.NewBuilder(prefix)
				ls.Range(func(l labels.Label) { b.Set(l.Name, l.Value) })
				next = append(next, b.Labels())
			}
		}
		out = next
	}
	return out
}

// kindShares returns how many series of each kind a target has.
func kindShares(t target) (constGauges, slowGauges, counters, noisy int) {
	for _, s := range t.series {
		switch s.kind {
		case kindConst:
			constGauges++
		case kindSlow:
			slowGauges++
		case kindCounter:
			counters++
		case kindNoisy:
			noisy++
		}
	}
	return
}

// roundTo rounds v to a multiple of q; q == 0 leaves v unchanged.
func roundTo(v, q float64) float64 {
	if q == 0 {
		return v
	}
	return math.Round(v/q) * q
}

// seriesState is the evolving value of one series during an ingest.
type seriesState struct {
	value float64
	rng   harness.Rand
}

// next advances the series by one scrape and returns its new value.
func (s *seriesState) next(spec *seriesSpec) float64 {
	switch spec.kind {
	case kindSlow:
		// About once every 40 scrapes (10 min) the value moves by a few steps.
		if s.rng.Float64() < 1.0/40 {
			steps := math.Floor(s.rng.Float64()*7) - 3
			s.value = math.Max(0, s.value+steps*spec.step)
		}
	case kindCounter:
		// Uneven increments: a tenth of the scrapes see no change, the rest
		// an exponentially distributed one around step.
		if u := s.rng.Float64(); u >= 0.1 {
			inc := -math.Log(1-s.rng.Float64()) * spec.step
			s.value = roundTo(s.value+inc, spec.quantum)
		}
	case kindNoisy:
		// Mean-reverting random walk around base.
		noise := (s.rng.Float64() + s.rng.Float64() + s.rng.Float64() - 1.5) * 2 * spec.step
		s.value = roundTo(spec.base+(s.value-spec.base)*0.8+noise, spec.quantum)
	}
	return s.value
}

// newStates returns the initial value state of every series of target i.
func (w *workload) newStates(i int) []seriesState {
	t := &w.targets[i]
	states := make([]seriesState, len(t.series))
	for j, s := range t.series {
		states[j] = seriesState{value: s.base, rng: harness.Rand(harness.Mix(w.seed, uint64(i), uint64(j), 0x5eed))}
	}
	return states
}

// scrapeTime returns the timestamp (ms) of scrape round r of target i,
// including the target's phase and a few milliseconds of jitter.
func (w *workload) scrapeTime(i, r int) int64 {
	jitter := time.Duration(harness.Mix(w.seed, uint64(i), uint64(r), 0x717e) % uint64(maxJitter))
	ts := w.start.Add(time.Duration(r)*scrapeInterval + w.targets[i].phase + jitter)
	return ts.UnixMilli()
}

// ingester appends a workload to a storage one scrape per Commit, as a
// scraper does, remembering the series references the storage returns.
type ingester struct {
	w      *workload
	states [][]seriesState
	refs   [][]storage.SeriesRef
	// For a churning workload, the targets [dropped, built) are the ones
	// built and not yet dropped, and building is the time spent building
	// them, which run leaves out of the ingest time.
	dropped, built int
	building       time.Duration
}

// newIngester allocates the per-series state of an ingest up front, so that
// heap measurements around ingest see only what the storage keeps. For a
// churning workload it allocates that of each target as the target enters
// the window.
func newIngester(w *workload) *ingester {
	in := &ingester{w: w, states: make([][]seriesState, len(w.targets)), refs: make([][]storage.SeriesRef, len(w.targets))}
	if w.active != 0 {
		return in
	}
	for i, t := range w.targets {
		in.states[i] = w.newStates(i)
		in.refs[i] = make([]storage.SeriesRef, len(t.series))
	}
	return in
}

// slide builds the targets of a churning workload that enter the window
// [lo, hi) and drops those that left it, with their state, as a scraper
// forgets a target that is gone. It does nothing for other workloads.
func (in *ingester) slide(lo, hi int) {
	if in.w.active == 0 {
		return
	}
	began := time.Now()
	for ; in.dropped < lo; in.dropped++ {
		in.w.targets[in.dropped], in.states[in.dropped], in.refs[in.dropped] = target{}, nil, nil
	}
	for ; in.built < hi; in.built++ {
		i := in.built
		in.w.targets[i] = newNodeTarget(i, in.w.seed)
		in.states[i] = in.w.newStates(i)
		in.refs[i] = make([]storage.SeriesRef, len(in.w.targets[i].series))
	}
	in.building += time.Since(began)
}

// scrape appends round r of target i in one transaction.
func (in *ingester) scrape(ctx context.Context, db storage.AppendableV2, i, r int) error {
	t := &in.w.targets[i]
	ts := in.w.scrapeTime(i, r)
	states, refs := in.states[i], in.refs[i]
	app := db.AppenderV2(ctx)
	for j := range t.series {
		spec := &t.series[j]
		v := states[j].next(spec)
		lset := spec.lset
		if refs[j] == 0 {
			// Hand the storage labels of its own on the first scrape of a
			// series, as a scraper builds them from the parsed text;
			// whatever it keeps is then counted in its heap and not shared
			// with the workload.
			lset = lset.Copy()
		}
		ref, err := app.Append(refs[j], lset, 0, ts, v, nil, nil, storage.AOptions{})
		if err != nil {
			rbErr := app.Rollback()
			return fmt.Errorf("append %s at %d: %w (rollback: %v)", spec.lset, ts, err, rbErr)
		}
		refs[j] = ref
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("commit scrape %d of %s: %w", r, t.instance, err)
	}
	return nil
}

// run ingests the whole workload with the given number of goroutines and
// returns the wall time, leaving out the time spent building the targets
// of a churning workload. The targets of a round are split among the
// goroutines, which move through the scrape rounds in lockstep, as
// parallel scrapers of one server stay within an interval of each other.
func (in *ingester) run(ctx context.Context, db storage.AppendableV2, workers int) (time.Duration, error) {
	startTime := time.Now()
	if workers <= 1 {
		for r := 0; r < in.w.rounds; r++ {
			lo, hi := in.w.window(r)
			in.slide(lo, hi)
			for i := lo; i < hi; i++ {
				if err := in.scrape(ctx, db, i, r); err != nil {
					return 0, err
				}
			}
		}
		return time.Since(startTime) - in.building, nil
	}
	rounds := make([]chan int, workers)
	done := make(chan error, workers)
	for k := range rounds {
		rounds[k] = make(chan int)
		go func(k int) {
			for r := range rounds[k] {
				var err error
				lo, hi := in.w.window(r)
				for i := lo + k; i < hi && err == nil; i += workers {
					err = in.scrape(ctx, db, i, r)
				}
				done <- err
			}
		}(k)
	}
	defer func() {
		for _, c := range rounds {
			close(c)
		}
	}()
	for r := 0; r < in.w.rounds; r++ {
		in.slide(in.w.window(r))
		for _, c := range rounds {
			c <- r
		}
		var firstErr error
		for range rounds {
			if err := <-done; err != nil && firstErr == nil {
				firstErr = err
			}
		}
		if firstErr != nil {
			return 0, firstErr
		}
	}
	return time.Since(startTime) - in.building, nil
}
