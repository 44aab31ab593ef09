package sdk

import (
	"maps"
	"slices"
)

// Capabilities a plugin may claim in Info.Capabilities. A claim is a
// promise: the conformance suite runs the checks that need a capability
// only for a plugin that claims it (and skips them, saying so, for one
// that does not), and a plugin that claims a capability and then does
// not behave as it says fails those checks. A name not listed here is
// reported by the suite's plugin.capabilities check.
const (
	// CapabilityDeliversToURL is claimed by a notifier that delivers
	// every notification with an HTTP request to the URL of its URL
	// attribute (a string attribute named "url" or ending in "_url"),
	// and returns an error when the answer is not a success: the suite
	// points that attribute at its loopback receiver and makes it answer
	// 503 and 400 (notifier.failure-reported, notifier.failure-classified).
	CapabilityDeliversToURL = "delivers-to-url"
	// CapabilityDeliversSMTP is claimed by a notifier that delivers every
	// notification as an email through the SMTP server its config names
	// (a string attribute "smarthost", "host:port", or a string "host"
	// with a number "port"), and returns an error when the server does
	// not accept the message: retryable for a 4xx answer, permanent
	// (Permanent) for a 5xx one, as SMTP's reply codes mean. The suite
	// runs a plain SMTP server on 127.0.0.1, points those attributes at
	// it, and makes it answer 451 and 554 (notifier.failure-reported,
	// notifier.failure-classified).
	CapabilityDeliversSMTP = "delivers-smtp"
	// CapabilityPollsURL is claimed by a discoverer that reads its target
	// groups, in the format of Prometheus's http_sd_configs, with a GET of
	// the URL of its URL attribute, polled at its refresh interval: the
	// suite points that attribute at its loopback receiver and drops a
	// group there (discovery.removed-group-empty).
	CapabilityPollsURL = "polls-url"
	// CapabilityReadsFiles is claimed by a discoverer that reads its target
	// groups, in the format of Prometheus's file_sd_configs (JSON), from
	// the files its string list attribute "files" names, paths or globs,
	// and follows their changes: the suite writes two files, points
	// "files" at them and removes one (discovery.removed-group-empty).
	CapabilityReadsFiles = "reads-files"
	// CapabilityMultiTarget is claimed by an exporter whose instances
	// implement TargetCollector: it collects the target each collection
	// names, as Prometheus's blackbox and SNMP exporters probe the target
	// of their /probe URL. An exporter block may then take targets,
	// static or discovered, each collected on its own. The suite collects
	// the targets the plugin's conformance config names, each on its own
	// and a target that cannot be reached
	// (exporter.multi-target-independent, exporter.multi-target-bad-target).
	CapabilityMultiTarget = "multi-target"
)

// capabilityKinds are the known capabilities and the kind of plugin
// each is for.
var capabilityKinds = map[string]Kind{
	CapabilityDeliversToURL: KindNotifier,
	CapabilityDeliversSMTP:  KindNotifier,
	CapabilityPollsURL:      KindDiscoverer,
	CapabilityReadsFiles:    KindDiscoverer,
	CapabilityMultiTarget:   KindExporter,
}

// CapabilityKind returns the kind of plugin that may claim the
// capability name, and false for a name that is not one of the
// Capability constants.
func CapabilityKind(name string) (Kind, bool) {
	k, ok := capabilityKinds[name]
	return k, ok
}

// KnownCapabilities returns the names of the Capability constants,
// sorted.
func KnownCapabilities() []string {
	return slices.Sorted(maps.Keys(capabilityKinds))
}

// HasCapability says whether the plugin claims the capability name.
func (i Info) HasCapability(name string) bool {
	return slices.Contains(i.Capabilities, name)
}
