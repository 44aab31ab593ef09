package conformance

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	"github.com/vigilmon/vigil/sdk"
)

// isURLAttribute says whether a is a string attribute holding a URL, by
// its name: "url" or ending in "_url".
func isURLAttribute(a sdk.Attribute) bool {
	return a.Type == sdk.TypeString && (a.Name == "url" || strings.HasSuffix(a.Name, "_url"))
}

// SampleConfig is the config the suite configures a plugin with: a value
// for each required attribute ("conformance", 1, false, "1m", a list or
// map of "conformance"); the URL of the loopback receiver, receiverURL,
// for each URL attribute (named "url" or "*_url") that is required or
// has a default; "1s" for each duration attribute whose name ends in
// "interval", so that changes show within the suite's bounds; then the
// attributes of user, a JSON object, over those.
func SampleConfig(schema sdk.Schema, receiverURL string, user []byte) (map[string]any, error) {
	out := map[string]any{}
	for _, a := range schema {
		switch {
		case isURLAttribute(a) && (a.Required || a.Default != nil):
			out[a.Name] = receiverURL + "/" + a.Name
		case a.Type == sdk.TypeDuration && strings.HasSuffix(a.Name, "interval"):
			out[a.Name] = "1s"
		case a.Required:
			out[a.Name] = placeholder(a.Type)
		}
	}
	if err := overlay(out, user); err != nil {
		return nil, err
	}
	return out, nil
}

// overlay lays the attributes of user, a JSON object, over config.
func overlay(config map[string]any, user []byte) error {
	if len(user) == 0 {
		return nil
	}
	var over map[string]any
	if err := json.Unmarshal(user, &over); err != nil {
		return fmt.Errorf("the given config is not a JSON object: %w", err)
	}
	maps.Copy(config, over)
	return nil
}

// placeholder is a value of type t.
func placeholder(t sdk.AttributeType) any {
	switch t {
	case sdk.TypeNumber:
		return 1
	case sdk.TypeBool:
		return false
	case sdk.TypeDuration:
		return "1m"
	case sdk.TypeStringList:
		return []string{"conformance"}
	case sdk.TypeStringMap:
		return map[string]string{"conformance": "conformance"}
	}
	return "conformance"
}

// wrongValue is a value no attribute of type t accepts.
func wrongValue(t sdk.AttributeType) any {
	switch t {
	case sdk.TypeString, sdk.TypeDuration:
		return []any{1, 2}
	case sdk.TypeNumber, sdk.TypeStringMap:
		return "not-a-" + strings.ReplaceAll(t.String(), " ", "-")
	case sdk.TypeBool:
		return 12
	case sdk.TypeStringList:
		return map[string]any{"a": 1}
	}
	return nil
}

// withValue is config with name set to v, or removed when v is nil.
func withValue(config map[string]any, name string, v any) []byte {
	c := maps.Clone(config)
	if v == nil {
		delete(c, name)
	} else {
		c[name] = v
	}
	b, _ := json.Marshal(c)
	return b
}
