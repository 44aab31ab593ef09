package conformance

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vigilmon/vigil/sdk"
)

// capabilityDocs say, for CHECKS.md, what the suite does for each
// capability a plugin claims.
var capabilityDocs = []struct{ name, does string }{
	{sdk.CapabilityDeliversToURL, "points every URL attribute (`url`, `*_url`), optional ones too, at the loopback receiver, and makes it answer 503 and 400 while the failure checks run; a notification that does not reach the receiver fails them"},
	{sdk.CapabilityPollsURL, "points every URL attribute at the loopback receiver, which serves two groups, and drops one there; a plugin that never polls it fails `discovery.removed-group-empty`"},
	{sdk.CapabilityReadsFiles, "writes two file_sd JSON files, one group each, into a directory of its own, sets `files` to `[\"<dir>/*.json\"]` and removes one file; a plugin without a string list attribute `files` fails `discovery.removed-group-empty`"},
}

// filesGroupNames are the files written for a discoverer that claims
// reads-files, one per group of receiverGroups; the last is removed.
var filesGroupNames = []string{"a.json", "b.json"}

// capabilityConfig sets in config, the sample config before the one
// given is laid over it, what the plugin's claimed capabilities need.
func (s *session) capabilityConfig(config map[string]any) error {
	if s.info.HasCapability(sdk.CapabilityDeliversToURL) || s.info.HasCapability(sdk.CapabilityPollsURL) {
		for _, a := range s.schema {
			if isURLAttribute(a) {
				config[a.Name] = s.recv.URL + "/" + a.Name
			}
		}
	}
	if a, ok := s.schema.Attribute("files"); ok && a.Type == sdk.TypeStringList && s.info.HasCapability(sdk.CapabilityReadsFiles) && s.filesDir == "" {
		dir, err := os.MkdirTemp("", "vigil-conformance-files")
		if err != nil {
			return fmt.Errorf("cannot make a directory for the files of reads-files: %w", err)
		}
		s.filesDir = dir
		for i, name := range filesGroupNames {
			b, _ := json.Marshal(receiverGroups[i : i+1])
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				return fmt.Errorf("cannot write a file for reads-files: %w", err)
			}
		}
		s.filesGlob = filepath.Join(dir, "*.json")
		config["files"] = []string{s.filesGlob}
	}
	return nil
}

// afterOverlay notes what of the capabilities' config survived the
// config given.
func (s *session) afterOverlay() {
	s.receiverAttrs = nil
	for _, a := range s.schema {
		if v, ok := s.sample[a.Name].(string); ok && isURLAttribute(a) && strings.HasPrefix(v, s.recv.URL+"/") {
			s.receiverAttrs = append(s.receiverAttrs, a.Name)
		}
	}
	if s.filesGlob != "" {
		if files, ok := s.sample["files"].([]string); !ok || !slices.Equal(files, []string{s.filesGlob}) {
			s.filesGlob = ""
		}
	}
}

// urlAttributes are the names of the schema's URL attributes.
func (s *session) urlAttributes() []string {
	var out []string
	for _, a := range s.schema {
		if isURLAttribute(a) {
			out = append(out, a.Name)
		}
	}
	return out
}

// needReceiverAttr is nil when the sample config points a URL
// attribute at the receiver, for a plugin that claims capability; a
// failure when it has no URL attribute; a skip when the config given
// points them elsewhere.
func (s *session) needReceiverAttr(capability string) error {
	if len(s.receiverAttrs) > 0 {
		return nil
	}
	if attrs := s.urlAttributes(); len(attrs) > 0 {
		return skipf("the config given sets %s, so the suite's receiver is not used", strings.Join(attrs, ", "))
	}
	return fmt.Errorf("the plugin claims %s, yet has no URL attribute (a string attribute named url or ending in _url)", capability)
}
