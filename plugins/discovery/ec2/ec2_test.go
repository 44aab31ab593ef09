package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vigilmon/vigil/conformance"
	"github.com/vigilmon/vigil/internal/testplugins"
	"github.com/vigilmon/vigil/plugins/discovery/internal/upstream"
	"github.com/vigilmon/vigil/plugins/discovery/internal/upstreamtest"
	"github.com/vigilmon/vigil/sdk"
)

func TestMain(m *testing.M) { testplugins.VerifyTestMain(m) }

// instance is what the test EC2 API knows of an instance.
type instance struct {
	id, privateIP, publicIP, state, name string
}

// ec2API answers the EC2 query API's DescribeInstances,
// DescribeAvailabilityZones and DescribeNetworkInterfaces as AWS
// documents them: a form-encoded POST, and an XML answer.
type ec2API struct {
	*httptest.Server
	mu        sync.Mutex
	instances []instance
	filters   []string // the Filter.N.Name values of the last DescribeInstances
	auth      string   // the last Authorization header
}

func newEC2API(t *testing.T) *ec2API {
	t.Helper()
	a := &ec2API{}
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.Close)
	return a
}

func (a *ec2API) set(instances ...instance) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.instances = instances
}

func (a *ec2API) lastRequest() ([]string, string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.filters), a.auth
}

const ec2NS = "http://ec2.amazonaws.com/doc/2016-11-15/"

func (a *ec2API) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	a.mu.Lock()
	defer a.mu.Unlock()
	a.auth = r.Header.Get("Authorization")
	switch r.PostForm.Get("Action") {
	case "DescribeAvailabilityZones":
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<DescribeAvailabilityZonesResponse xmlns="%s"><requestId>req-az</requestId><availabilityZoneInfo>
<item><zoneName>eu-west-2a</zoneName><zoneId>euw2-az2</zoneId><zoneState>available</zoneState><regionName>eu-west-2</regionName></item>
</availabilityZoneInfo></DescribeAvailabilityZonesResponse>`, ec2NS)
	case "DescribeNetworkInterfaces":
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<DescribeNetworkInterfacesResponse xmlns="%s"><requestId>req-ni</requestId><networkInterfaceSet/></DescribeNetworkInterfacesResponse>`, ec2NS)
	case "DescribeInstances":
		a.filters = nil
		for i := 1; r.PostForm.Has(fmt.Sprintf("Filter.%d.Name", i)); i++ {
			a.filters = append(a.filters, r.PostForm.Get(fmt.Sprintf("Filter.%d.Name", i))+"="+r.PostForm.Get(fmt.Sprintf("Filter.%d.Value.1", i)))
		}
		var b strings.Builder
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="%s"><requestId>req-1</requestId><reservationSet>
<item><reservationId>r-1</reservationId><ownerId>123456789012</ownerId><groupSet/><instancesSet>`, ec2NS)
		for _, in := range a.instances {
			public := ""
			if in.publicIP != "" {
				public = fmt.Sprintf("<ipAddress>%s</ipAddress><dnsName>ec2-%s.eu-west-2.compute.amazonaws.com</dnsName>",
					in.publicIP, strings.ReplaceAll(in.publicIP, ".", "-"))
			}
			fmt.Fprintf(&b, `<item><instanceId>%s</instanceId><imageId>ami-0abc</imageId>
<instanceState><code>16</code><name>%s</name></instanceState>
<privateDnsName>ip-%s.eu-west-2.compute.internal</privateDnsName>
<instanceType>t3.micro</instanceType>
<placement><availabilityZone>eu-west-2a</availabilityZone><tenancy>default</tenancy></placement>
<subnetId>subnet-1</subnetId><vpcId>vpc-1</vpcId>
<privateIpAddress>%s</privateIpAddress>%s
<architecture>x86_64</architecture>
<tagSet><item><key>Name</key><value>%s</value></item><item><key>env</key><value>prod</value></item></tagSet>
<networkInterfaceSet><item><networkInterfaceId>eni-1</networkInterfaceId><subnetId>subnet-1</subnetId><vpcId>vpc-1</vpcId>
<privateIpAddress>%s</privateIpAddress><attachment><deviceIndex>0</deviceIndex><status>attached</status></attachment></item></networkInterfaceSet>
</item>`, in.id, in.state, strings.ReplaceAll(in.privateIP, ".", "-"), in.privateIP, public, in.name, in.privateIP)
		}
		b.WriteString(`</instancesSet></item></reservationSet></DescribeInstancesResponse>`)
		_, _ = w.Write([]byte(b.String()))
	default:
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>InvalidAction</Code><Message>unknown action</Message></Error></Errors><RequestID>x</RequestID></Response>`)
	}
}

// hermetic keeps the AWS SDK from reading this machine's settings: its
// config files, instance metadata, and a CA bundle, which the SDK cannot
// add to the HTTP client Prometheus's mechanism gives it.
func hermetic(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CA_BUNDLE", "")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	t.Setenv("AWS_PROFILE", "")
}

func config(a *ec2API, more map[string]any) map[string]any {
	c := map[string]any{
		"endpoint": a.URL, "region": "eu-west-2", "access_key": "AKIDEXAMPLE", "secret_key": "secret",
		"port": 9100, "refresh_interval": "100ms",
	}
	for k, v := range more {
		c[k] = v
	}
	return c
}

func TestInstances(t *testing.T) {
	hermetic(t)
	a := newEC2API(t)
	a.set(instance{"i-1", "10.0.0.5", "203.0.113.5", "running", "web-1"}, instance{"i-2", "10.0.0.6", "", "running", "web-2"})
	s := upstreamtest.Start(t, mechanism, config(a, map[string]any{"filters": []string{"{name: 'tag:env', values: [prod]}"}}))
	s.Await(t, "both instances", upstreamtest.HasAddresses("10.0.0.5:9100", "10.0.0.6:9100"))
	want := map[string]string{
		"__address__":                     "10.0.0.5:9100",
		"__meta_ec2_instance_id":          "i-1",
		"__meta_ec2_private_ip":           "10.0.0.5",
		"__meta_ec2_public_ip":            "203.0.113.5",
		"__meta_ec2_public_dns_name":      "ec2-203-0-113-5.eu-west-2.compute.amazonaws.com",
		"__meta_ec2_private_dns_name":     "ip-10-0-0-5.eu-west-2.compute.internal",
		"__meta_ec2_instance_state":       "running",
		"__meta_ec2_instance_type":        "t3.micro",
		"__meta_ec2_availability_zone":    "eu-west-2a",
		"__meta_ec2_availability_zone_id": "euw2-az2",
		"__meta_ec2_owner_id":             "123456789012",
		"__meta_ec2_region":               "eu-west-2",
		"__meta_ec2_vpc_id":               "vpc-1",
		"__meta_ec2_subnet_id":            ",subnet-1,",
		"__meta_ec2_ami":                  "ami-0abc",
		"__meta_ec2_architecture":         "x86_64",
		"__meta_ec2_tag_Name":             "web-1",
		"__meta_ec2_tag_env":              "prod",
	}
	got := upstreamtest.Target(s.Groups(), "10.0.0.5:9100")
	for k, v := range want {
		if got[k] != v {
			t.Errorf("label %s=%q, want %q", k, got[k], v)
		}
	}
	if g, ok := s.Groups()["eu-west-2"]; !ok || len(g.Targets) != 2 {
		t.Errorf("groups %v, want one for the region", upstreamtest.Dump(s.Groups()))
	}
	filters, auth := a.lastRequest()
	if !slices.Equal(filters, []string{"tag:env=prod"}) {
		t.Errorf("filters sent %q", filters)
	}
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(auth, "/eu-west-2/ec2/aws4_request") {
		t.Errorf("Authorization %q: not signed with the access key for the region", auth)
	}

	// One instance stops and another starts; then none is left.
	a.set(instance{"i-1", "10.0.0.5", "203.0.113.5", "stopped", "web-1"}, instance{"i-3", "10.0.0.7", "", "running", "web-3"})
	s.Await(t, "the new instance", upstreamtest.HasAddresses("10.0.0.5:9100", "10.0.0.7:9100"))
	if got := upstreamtest.Target(s.Groups(), "10.0.0.5:9100")["__meta_ec2_instance_state"]; got != "stopped" {
		t.Errorf("state %q", got)
	}
	a.set()
	s.Await(t, "no instances", upstreamtest.HasAddresses())
}

func TestConfig(t *testing.T) {
	p := upstream.Plugin(mechanism)
	for config, attr := range map[string]string{
		`{"region": "eu-west-2", "filters": ["{name: a}"]}`:            "filters",
		`{"region": "eu-west-2", "filters": ["{name: a, vals: [b]}"]}`: "filters",
		`{"region": "eu-west-2", "port": "80"}`:                        "port",
	} {
		cfg, err := p.Schema.Parse([]byte(config))
		if err == nil {
			_, err = p.Discoverer(cfg)
		}
		var ae *sdk.AttributeError
		if !errors.As(err, &ae) || ae.Attribute != attr {
			t.Errorf("%s: %v, want an error naming %q", config, err, attr)
		}
	}
	if a, _ := p.Schema.Attribute("secret_key"); !a.Sensitive {
		t.Error("secret_key is not sensitive")
	}
}

func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin")
	}
	hermetic(t)
	a := newEC2API(t)
	a.set(instance{"i-1", "10.0.0.5", "", "running", "web-1"})
	c, _ := json.Marshal(config(a, map[string]any{"refresh_interval": "1s"}))
	conformance.Discoverer(t, conformance.Program(testplugins.Build(t, "plugins/discovery/ec2")), conformance.Options{
		ConfigJSON: c,
		RemoveGroup: func(context.Context) error {
			a.set()
			return nil
		},
	})
}
