// Command noaddress is a broken discoverer for the conformance suite's
// tests: one of its targets has no __address__. It fails
// discovery.target-address only.
package main

import (
	"context"

	"github.com/vigilmon/vigil/sdk"
)

type discoverer struct{}

func (discoverer) Discover(ctx context.Context, send func([]sdk.TargetGroup) error) error {
	err := send([]sdk.TargetGroup{{
		Source:  "static/0",
		Targets: []map[string]string{{"__address__": "127.0.0.1:9100"}, {"instance": "no-address"}},
	}})
	if err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

func main() {
	sdk.Serve(sdk.Plugin{
		Info:       sdk.Info{Name: "noaddress", Version: "0.1.0", Description: "A target without an address."},
		Discoverer: func(sdk.Config) (sdk.Discoverer, error) { return discoverer{}, nil },
	})
}
