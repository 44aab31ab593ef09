package promimport

import (
	"errors"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/discovery"

	// The two discoveries Vigil has plugins for are parsed and checked
	// by Prometheus's own code; they link nothing heavy.
	_ "github.com/prometheus/prometheus/discovery/file"
	_ "github.com/prometheus/prometheus/discovery/http"
)

// Prometheus's other service discoveries link the client libraries of
// every cloud and orchestrator they speak to (Kubernetes, AWS, Azure,
// ...), tens of modules that Vigil, whose discoveries are plugins, does
// not want in its binary. So a stand-in type takes each one's place in
// config.Load: it accepts any mapping and checks nothing, and the import
// reads the fields from the YAML tree, writing those of the mechanisms a
// plugin serves (which check them when they are configured) and reporting
// the others. A program that has converted a configuration reads these
// keys so in every configuration, which only this package reads in Vigil.
//
// The list is discovery/install of the Prometheus version in go.mod; a
// discovery added upstream later is refused by config.Load as an unknown
// field until it is added here.

// registerStandIns registers, once, a stand-in for every discovery that
// is not registered yet: a program that links a real one keeps it,
// whatever the order its packages were initialized in (tests of the
// discovery plugins link both). Convert calls it before it reads a
// configuration: the discovery registry builds the YAML type of scrape and
// alertmanager configurations once, with the discoveries registered at
// that time.
var registerStandIns = sync.OnceFunc(func() {
	registered := discovery.RegisteredConfigNames()
	for _, c := range []discovery.Config{
		&standIn[awsSD]{}, &standIn[ec2SD]{}, &standIn[ecsSD]{}, &standIn[elasticacheSD]{},
		&standIn[lightsailSD]{}, &standIn[mskSD]{}, &standIn[rdsSD]{}, &standIn[azureSD]{},
		&standIn[consulSD]{}, &standIn[digitaloceanSD]{}, &standIn[dnsSD]{}, &standIn[eurekaSD]{},
		&standIn[gceSD]{}, &standIn[hetznerSD]{}, &standIn[ionosSD]{}, &standIn[kubernetesSD]{},
		&standIn[linodeSD]{}, &standIn[marathonSD]{}, &standIn[dockerSD]{}, &standIn[dockerswarmSD]{},
		&standIn[nomadSD]{}, &standIn[ociSD]{}, &standIn[openstackSD]{}, &standIn[outscaleSD]{},
		&standIn[ovhcloudSD]{}, &standIn[puppetdbSD]{}, &standIn[scalewaySD]{}, &standIn[stackitSD]{},
		&standIn[tritonSD]{}, &standIn[uyuniSD]{}, &standIn[vultrSD]{}, &standIn[kumaSD]{},
		&standIn[serversetSD]{}, &standIn[nerveSD]{},
	} {
		if !slices.Contains(registered, c.Name()) {
			discovery.RegisterConfig(c)
		}
	}
})

// sdName names a service discovery: its YAML key is NAME_sd_configs.
// Each discovery has a type of its own, because the discovery registry
// tells its configurations apart by type.
type sdName interface{ sdName() string }

type (
	awsSD          struct{}
	ec2SD          struct{}
	ecsSD          struct{}
	elasticacheSD  struct{}
	lightsailSD    struct{}
	mskSD          struct{}
	rdsSD          struct{}
	azureSD        struct{}
	consulSD       struct{}
	digitaloceanSD struct{}
	dnsSD          struct{}
	eurekaSD       struct{}
	gceSD          struct{}
	hetznerSD      struct{}
	ionosSD        struct{}
	kubernetesSD   struct{}
	linodeSD       struct{}
	marathonSD     struct{}
	dockerSD       struct{}
	dockerswarmSD  struct{}
	nomadSD        struct{}
	ociSD          struct{}
	openstackSD    struct{}
	outscaleSD     struct{}
	ovhcloudSD     struct{}
	puppetdbSD     struct{}
	scalewaySD     struct{}
	stackitSD      struct{}
	tritonSD       struct{}
	uyuniSD        struct{}
	vultrSD        struct{}
	kumaSD         struct{}
	serversetSD    struct{}
	nerveSD        struct{}
)

func (awsSD) sdName() string          { return "aws" }
func (ec2SD) sdName() string          { return "ec2" }
func (ecsSD) sdName() string          { return "ecs" }
func (elasticacheSD) sdName() string  { return "elasticache" }
func (lightsailSD) sdName() string    { return "lightsail" }
func (mskSD) sdName() string          { return "msk" }
func (rdsSD) sdName() string          { return "rds" }
func (azureSD) sdName() string        { return "azure" }
func (consulSD) sdName() string       { return "consul" }
func (digitaloceanSD) sdName() string { return "digitalocean" }
func (dnsSD) sdName() string          { return "dns" }
func (eurekaSD) sdName() string       { return "eureka" }
func (gceSD) sdName() string          { return "gce" }
func (hetznerSD) sdName() string      { return "hetzner" }
func (ionosSD) sdName() string        { return "ionos" }
func (kubernetesSD) sdName() string   { return "kubernetes" }
func (linodeSD) sdName() string       { return "linode" }
func (marathonSD) sdName() string     { return "marathon" }
func (dockerSD) sdName() string       { return "docker" }
func (dockerswarmSD) sdName() string  { return "dockerswarm" }
func (nomadSD) sdName() string        { return "nomad" }
func (ociSD) sdName() string          { return "oci" }
func (openstackSD) sdName() string    { return "openstack" }
func (outscaleSD) sdName() string     { return "outscale" }
func (ovhcloudSD) sdName() string     { return "ovhcloud" }
func (puppetdbSD) sdName() string     { return "puppetdb" }
func (scalewaySD) sdName() string     { return "scaleway" }
func (stackitSD) sdName() string      { return "stackit" }
func (tritonSD) sdName() string       { return "triton" }
func (uyuniSD) sdName() string        { return "uyuni" }
func (vultrSD) sdName() string        { return "vultr" }
func (kumaSD) sdName() string         { return "kuma" }
func (serversetSD) sdName() string    { return "serverset" }
func (nerveSD) sdName() string        { return "nerve" }

// standIn takes the place of the discovery N in config.Load.
type standIn[N sdName] struct {
	// set tells a parsed section from a null one, which the registry
	// refuses as Prometheus does.
	set bool
}

// Name implements discovery.Config.
func (*standIn[N]) Name() string {
	var n N
	return n.sdName()
}

// NewDiscoverer implements discovery.Config; a stand-in discovers nothing.
func (c *standIn[N]) NewDiscoverer(discovery.DiscovererOptions) (discovery.Discoverer, error) {
	return nil, errors.New("the " + c.Name() + " discovery is not part of Vigil")
}

// NewDiscovererMetrics implements discovery.Config.
func (*standIn[N]) NewDiscovererMetrics(prometheus.Registerer, discovery.RefreshMetricsInstantiator) discovery.DiscovererMetrics {
	return noMetrics{}
}

// UnmarshalYAML accepts any mapping.
func (c *standIn[N]) UnmarshalYAML(unmarshal func(any) error) error {
	var section map[string]any
	if err := unmarshal(&section); err != nil {
		return err
	}
	c.set = true
	return nil
}

// noMetrics are the metrics of a stand-in: none.
type noMetrics struct{}

// Register implements discovery.DiscovererMetrics.
func (noMetrics) Register() error { return nil }

// Unregister implements discovery.DiscovererMetrics.
func (noMetrics) Unregister() {}
