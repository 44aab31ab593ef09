//go:build !windows

package main

import (
	"context"
	"fmt"
	"runtime"

	dto "github.com/prometheus/client_model/go"

	"github.com/vigilmon/vigil/sdk"
)

// errWindowsOnly is every collection's error where windows_exporter's
// collectors do not exist.
var errWindowsOnly = fmt.Errorf("the windows exporter runs on Windows only: this build is for %s/%s, which has none of windows_exporter's collectors; build it with GOOS=windows and run it on Windows",
	runtime.GOOS, runtime.GOARCH)

// newExporter is the plugin's constructor where windows_exporter's
// collectors do not exist: it checks the config as the Windows build
// does, so that a config is checked anywhere, and returns an exporter
// whose collections fail.
func newExporter(cfg sdk.Config) (sdk.Exporter, error) {
	c, err := parseConfig(cfg)
	if err != nil {
		return nil, err
	}
	logger.Warn(errWindowsOnly.Error(), "collectors", c.collectors)
	return windowsOnly{}, nil
}

// windowsOnly is the exporter of a build for another system.
type windowsOnly struct{}

// Collect implements sdk.Exporter: it fails with errWindowsOnly.
func (windowsOnly) Collect(context.Context) ([]*dto.MetricFamily, error) {
	return nil, errWindowsOnly
}
