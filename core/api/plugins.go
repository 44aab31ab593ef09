package api

import (
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/prometheus/util/annotations"

	"github.com/vigilmon/vigil/core/pluginhost"
)

// pluginInfo is a plugin block as GET /api/v1/plugins answers it: where
// the plugin comes from, what it is, and its instances, the blocks that
// use it.
type pluginInfo struct {
	Name string `json:"name"`
	// Kind is the kind of the blocks that use the plugin; empty when none
	// does.
	Kind string `json:"kind"`
	// Version is the locked version of a plugin from a registry, or the
	// one the plugin gave; VersionFrom says which ("lock file", "plugin"
	// or "" when neither is known yet).
	Version     string `json:"version"`
	VersionFrom string `json:"versionFrom"`
	Description string `json:"description"`
	// Source is the source attribute as written for a registry address,
	// or the plugin's file; File is the file that runs.
	Source     string `json:"source"`
	File       string `json:"file"`
	Registry   bool   `json:"registry"`
	Constraint string `json:"constraint,omitempty"`
	LockFile   string `json:"lockFile,omitempty"`
	// Runtime is "wasm" for a WebAssembly module, "grpc" for a program.
	Runtime string `json:"runtime"`
	// Checksum is the SHA-256 of the file the plugin block pins, or the
	// lock file's, in hex; empty when the file is not pinned.
	Checksum  string           `json:"checksum"`
	Instances []pluginInstance `json:"instances"`
}

// pluginInstance is one block using a plugin, and how its plugin runs.
type pluginInstance struct {
	Name      string                `json:"name"`
	Kind      string                `json:"kind"`
	Up        bool                  `json:"up"`
	LastError string                `json:"lastError"`
	StartedAt *time.Time            `json:"startedAt"`
	Restarts  int                   `json:"restarts"`
	Calls     map[string]pluginCall `json:"calls"`
}

// pluginCall are the figures of one call of an instance.
type pluginCall struct {
	Count          uint64  `json:"count"`
	Errors         uint64  `json:"errors"`
	AverageSeconds float64 `json:"averageSeconds"`
	LastSeconds    float64 `json:"lastSeconds"`
}

// plugins answers GET /api/v1/plugins: every plugin block of the
// configuration in effect, in its order, with the instances that use it
// and how their plugins run.
func (a *API) plugins(*http.Request) (any, annotations.Annotations, *apiError) {
	if a.src.Config == nil {
		return nil, nil, &apiError{errorUnavailable, errors.New("no configuration")}
	}
	var status []pluginhost.Status
	if a.src.Plugins != nil {
		status = a.src.Plugins()
	}
	byPlugin := map[string][]pluginhost.Status{}
	for _, s := range status {
		byPlugin[s.Plugin] = append(byPlugin[s.Plugin], s)
	}
	out := []pluginInfo{}
	for _, p := range a.src.Config().Plugins {
		info := pluginInfo{
			Name: p.Name, Source: p.Source, File: p.Source, Runtime: "grpc",
			Checksum: hex.EncodeToString(p.Checksum), Instances: []pluginInstance{},
		}
		if p.IsWasm() {
			info.Runtime = "wasm"
		}
		if r := p.Registry; r != nil {
			info.Registry, info.Source, info.Constraint, info.LockFile = true, r.Address, r.Constraint, r.LockFile
			info.Version, info.VersionFrom = r.Version, "lock file"
		}
		for _, s := range byPlugin[p.Name] {
			info.Kind = s.Kind.String()
			if info.Version == "" && s.Info.Version != "" {
				info.Version, info.VersionFrom = s.Info.Version, "plugin"
			}
			if info.Description == "" {
				info.Description = s.Info.Description
			}
			inst := pluginInstance{
				Name: s.Name, Kind: s.Kind.String(), Up: s.Up, LastError: s.LastError, Restarts: s.Restarts,
				Calls: map[string]pluginCall{},
			}
			if !s.StartedAt.IsZero() {
				inst.StartedAt = &s.StartedAt
			}
			for name, c := range s.Calls {
				pc := pluginCall{Count: c.Count, Errors: c.Errors, LastSeconds: c.Last.Seconds()}
				if c.Count > 0 {
					pc.AverageSeconds = c.Total.Seconds() / float64(c.Count)
				}
				inst.Calls[name] = pc
			}
			info.Instances = append(info.Instances, inst)
		}
		out = append(out, info)
	}
	return out, nil, nil
}
