// Command pollsd is a test guest: a discovery module of Wasm ABI version
// 2, polled by the host, whose groups are the targets of its config, one
// group each.
package main

import (
	"context"
	"errors"
	"strconv"

	"github.com/vigilmon/vigil/sdk"
	"github.com/vigilmon/vigil/sdk/wasm"
)

func init() {
	wasm.Register(sdk.Plugin{
		Info: sdk.Info{Name: "test-pollsd", Version: "0.1.0", Description: "Discovers the targets of its config."},
		Schema: sdk.Schema{
			sdk.StringList("targets", "The targets to discover, one group each."),
			sdk.Duration("refresh_interval", "How often the host polls.", sdk.Default("60s")),
			sdk.Bool("fail", "Fail every poll.", sdk.Default(false)),
		},
		Discoverer: func(cfg sdk.Config) (sdk.Discoverer, error) { return &discoverer{cfg: cfg}, nil },
	})
}

type discoverer struct{ cfg sdk.Config }

// Poll implements sdk.PollingDiscoverer.
func (d *discoverer) Poll(context.Context) ([]sdk.TargetGroup, error) {
	if d.cfg.Bool("fail") {
		return nil, errors.New("told to fail")
	}
	var out []sdk.TargetGroup
	for i, t := range d.cfg.StringList("targets") {
		out = append(out, sdk.TargetGroup{
			Source:  "config:" + strconv.Itoa(i),
			Labels:  map[string]string{"origin": "pollsd"},
			Targets: []map[string]string{{"__address__": t}},
		})
	}
	return out, nil
}

// Discover is never called in a module: the host polls.
func (d *discoverer) Discover(context.Context, func([]sdk.TargetGroup) error) error {
	return errors.New("a module's discoverer is polled")
}

func main() {}
