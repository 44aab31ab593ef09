package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/hashicorp/go-hclog"
	"go.yaml.in/yaml/v3"

	"github.com/vigilmon/vigil/sdk"
	"github.com/vigilmon/vigil/sdk/discovery"
)

// filepathLabel is the label holding the file a group came from, named
// as in Prometheus.
const filepathLabel = "__meta_filepath"

const (
	// settle is how long a burst of file events may go on before the
	// files are read: writing a file is often several events.
	settle = 50 * time.Millisecond
	// pollInterval is how often the files are read when the system
	// cannot watch them.
	pollInterval = 5 * time.Second
)

// filePattern is what Prometheus accepts in files: a path or a glob whose
// "*" is in the last element, ending in .json, .yml or .yaml.
var filePattern = regexp.MustCompile(`^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$`)

var filePlugin = sdk.Plugin{
	Info: sdk.Info{
		Name:         "file",
		Version:      "0.1.0",
		Description:  "Reads scrape targets from JSON or YAML files, as Prometheus's file_sd does, and follows their changes.",
		Capabilities: []string{sdk.CapabilityReadsFiles},
	},
	Schema: sdk.Schema{
		sdk.StringList("files", "Paths or globs (a \"*\" in the last element) of the files to read; each ends in .json, .yml or .yaml.", sdk.Required),
		sdk.Duration("refresh_interval", "How often to read the files again besides watching them.", sdk.Default("5m")),
	},
	Discoverer: func(cfg sdk.Config) (sdk.Discoverer, error) { return newFileDiscoverer(cfg) },
}

// fileDiscoverer reads target groups from the files its patterns match.
type fileDiscoverer struct {
	patterns []string
	interval time.Duration
	log      hclog.Logger
}

func newFileDiscoverer(cfg sdk.Config) (*fileDiscoverer, error) {
	patterns := cfg.StringList("files")
	if len(patterns) == 0 {
		return nil, sdk.AttributeErrorf("files", "must list at least one path")
	}
	for _, p := range patterns {
		if !filePattern.MatchString(p) {
			return nil, sdk.AttributeErrorf("files", "%q is not a valid path: want a path or a glob with \"*\" in its last element, ending in .json, .yml or .yaml", p)
		}
		if _, err := filepath.Match(p, ""); err != nil {
			return nil, sdk.AttributeErrorf("files", "%q is not a valid glob: %v", p, err)
		}
	}
	interval := cfg.Duration("refresh_interval")
	if interval <= 0 {
		return nil, sdk.AttributeErrorf("refresh_interval", "must be positive, not %s", interval)
	}
	return &fileDiscoverer{patterns: patterns, interval: interval, log: sdk.Logger()}, nil
}

// Discover implements sdk.Discoverer: it sends the groups of every file,
// then what changes when a file is written, created or removed (watched
// through the files' directories) and at every refresh interval.
func (d *fileDiscoverer) Discover(ctx context.Context, send func([]sdk.TargetGroup) error) error {
	var events <-chan fsnotify.Event
	var watchErrs <-chan error
	interval := d.interval
	watcher, err := fsnotify.NewWatcher()
	if err != nil {
		d.log.Warn("cannot watch files; reading them periodically instead", "interval", pollInterval.String(), "err", err)
		interval = min(interval, pollInterval)
	} else {
		defer watcher.Close()
		events, watchErrs = watcher.Events, watcher.Errors
	}
	watchFailed := map[string]string{}

	// Watching starts before each read, so that no change goes unseen
	// between the two.
	var tr discovery.Tracker
	d.watch(watcher, watchFailed)
	update := d.refresh(&tr)
	if update == nil {
		update = []sdk.TargetGroup{}
	}
	if err := send(update); err != nil {
		return fmt.Errorf("cannot send target groups: %w", err)
	}

	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	settled := time.NewTimer(settle)
	settled.Stop()
	defer settled.Stop()
	pending := false
	for {
		reread := false
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			// A chmod alone changes nothing worth reading; anything else
			// in a watched directory may, even to another file's name (a
			// symlink swapped into place).
			if ev.Name == "" || ev.Op == fsnotify.Chmod || pending {
				continue
			}
			pending = true
			settled.Reset(settle)
		case err, ok := <-watchErrs:
			if !ok {
				watchErrs = nil
				continue
			}
			d.log.Error("error watching files", "err", err)
		case <-settled.C:
			pending = false
			reread = true
		case <-ticker.C:
			reread = true
		}
		if !reread {
			continue
		}
		d.watch(watcher, watchFailed)
		update := d.refresh(&tr)
		if len(update) == 0 {
			continue
		}
		if err := send(update); err != nil {
			return fmt.Errorf("cannot send target groups: %w", err)
		}
	}
}

// refresh reads every file the patterns match and returns the update:
// the groups that changed, and those of files that shrank or vanished
// with no targets. A file that cannot be read or parsed keeps its last
// groups.
func (d *fileDiscoverer) refresh(tr *discovery.Tracker) []sdk.TargetGroup {
	var update []sdk.TargetGroup
	present := map[string]bool{}
	for _, path := range d.listFiles() {
		if present[path] {
			continue
		}
		groups, err := readFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since it was listed
		}
		present[path] = true
		if err != nil {
			d.log.Error("cannot read target groups; keeping the last ones read", "path", path, "err", err)
			continue
		}
		update = append(update, tr.Set(path, groups)...)
	}
	for _, path := range tr.Origins() {
		if !present[path] {
			update = append(update, tr.Drop(path)...)
		}
	}
	return update
}

// listFiles returns the files the patterns match, in the patterns' order.
func (d *fileDiscoverer) listFiles() []string {
	var paths []string
	for _, p := range d.patterns {
		matches, err := filepath.Glob(p)
		if err != nil {
			d.log.Error("cannot expand glob", "glob", p, "err", err)
			continue
		}
		paths = append(paths, matches...)
	}
	return paths
}

// watch watches the directory of every pattern. It is called before
// each read, so a directory that appears later is watched from then on;
// a failure is logged when it first happens, not at every read.
func (d *fileDiscoverer) watch(w *fsnotify.Watcher, failed map[string]string) {
	if w == nil {
		return
	}
	for _, p := range d.patterns {
		dir, _ := filepath.Split(p)
		if dir == "" {
			dir = "."
		}
		err := w.Add(dir)
		if err == nil {
			delete(failed, dir)
			continue
		}
		if failed[dir] != err.Error() {
			d.log.Warn("cannot watch directory; its files are read at every refresh interval", "dir", dir, "err", err)
		}
		failed[dir] = err.Error()
	}
}

// readFile reads the target groups of one file, JSON or YAML by its
// extension, as Prometheus does.
func readFile(path string) ([]sdk.TargetGroup, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var groups []*discovery.StaticGroup
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".json":
		groups, err = discovery.DecodeJSON(data)
	case ".yml", ".yaml":
		groups, err = decodeYAML(data)
	default:
		err = fmt.Errorf("unknown extension %q: want .json, .yml or .yaml", ext)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot parse %q: %w", path, err)
	}
	return discovery.TargetGroups(path, groups, map[string]string{filepathLabel: path}), nil
}

// decodeYAML decodes a YAML list of target groups strictly: an unknown
// field or a second document is an error. An empty file has no groups.
func decodeYAML(data []byte) ([]*discovery.StaticGroup, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var groups []*discovery.StaticGroup
	if err := dec.Decode(&groups); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one YAML document")
	}
	if err := discovery.CheckAll(groups); err != nil {
		return nil, err
	}
	return groups, nil
}
