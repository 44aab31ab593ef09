// Command vigil-discovery-gce is Vigil's Google Compute Engine discovery
// plugin: it runs Prometheus's gce_sd_configs mechanism. See README.md.
package main

import (
	"fmt"
	"os"

	"github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/gce"

	"github.com/vigilmon/vigil/plugins/discovery/internal/upstream"
	"github.com/vigilmon/vigil/sdk"
)

// credentialsEnv is the variable Google's application default
// credentials read a service account key file from.
const credentialsEnv = "GOOGLE_APPLICATION_CREDENTIALS"

var mechanism = upstream.Mechanism{
	Config:      &gce.SDConfig{},
	Version:     "0.1.0",
	Description: "Discovers Google Compute Engine instances, as Prometheus's gce_sd_configs do.",
	Extra: sdk.Schema{
		sdk.String("credentials_file", "Vigil's addition: a service account key file (JSON) to authenticate with, "+
			"as "+credentialsEnv+" names it; without it, Google's application default credentials."),
	},
	Check: func(_ discovery.Config, cfg sdk.Config) error {
		if f := cfg.String("credentials_file"); f != "" {
			if _, err := os.Stat(f); err != nil {
				return sdk.AttributeErrorf("credentials_file", "cannot be read: %v", err)
			}
		}
		return nil
	},
	New: func(c discovery.Config, cfg sdk.Config, opts discovery.DiscovererOptions, _ discovery.RefreshMetricsInstantiator) (discovery.Discoverer, error) {
		// Upstream finds the credentials itself, through the environment;
		// the plugin process serves this one config.
		if f := cfg.String("credentials_file"); f != "" {
			if err := os.Setenv(credentialsEnv, f); err != nil {
				return nil, fmt.Errorf("cannot set %s: %w", credentialsEnv, err)
			}
		}
		return c.NewDiscoverer(opts)
	},
}

func main() { sdk.Serve(upstream.Plugin(mechanism)) }
