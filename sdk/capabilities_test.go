package sdk

import (
	"slices"
	"testing"
)

func TestCapabilities(t *testing.T) {
	want := []string{CapabilityDeliversToURL, CapabilityDeliversSMTP, CapabilityPollsURL, CapabilityReadsFiles, CapabilityMultiTarget}
	slices.Sort(want)
	if got := KnownCapabilities(); !slices.Equal(got, want) {
		t.Errorf("KnownCapabilities() = %q, want %q", got, want)
	}
	for name, kind := range map[string]Kind{CapabilityDeliversToURL: KindNotifier, CapabilityDeliversSMTP: KindNotifier, CapabilityPollsURL: KindDiscoverer, CapabilityReadsFiles: KindDiscoverer, CapabilityMultiTarget: KindExporter} {
		if got, ok := CapabilityKind(name); !ok || got != kind {
			t.Errorf("CapabilityKind(%q) = %v, %v; want %v", name, got, ok, kind)
		}
	}
	if _, ok := CapabilityKind("teleports"); ok {
		t.Error("an unknown capability is known")
	}
	info := Info{Capabilities: []string{CapabilityPollsURL}}
	if !info.HasCapability(CapabilityPollsURL) || info.HasCapability(CapabilityReadsFiles) {
		t.Errorf("HasCapability of %q", info.Capabilities)
	}
}
