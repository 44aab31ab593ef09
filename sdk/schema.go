package sdk

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// AttributeType is the type of a config attribute.
type AttributeType int

// The types of config attributes.
const (
	TypeString AttributeType = iota + 1
	TypeNumber
	TypeBool
	// TypeDuration is a string holding a Prometheus duration, e.g. "30s"
	// or "1h30m"; Config.Duration returns it parsed.
	TypeDuration
	TypeStringList
	TypeStringMap
)

// String returns the type's name as diagnostics write it.
func (t AttributeType) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeNumber:
		return "number"
	case TypeBool:
		return "bool"
	case TypeDuration:
		return "duration"
	case TypeStringList:
		return "list of string"
	case TypeStringMap:
		return "map of string"
	}
	return fmt.Sprintf("type(%d)", int(t))
}

// Attribute is one attribute of a plugin's config block.
type Attribute struct {
	Name        string
	Type        AttributeType
	Description string
	Required    bool
	// Sensitive values never appear in logs, errors or the status API.
	Sensitive bool
	// Default is the value used when the attribute is not set, of the
	// Go type Config returns for Type; nil for none.
	Default any
}

// AttributeOption sets a property of an Attribute.
type AttributeOption func(*Attribute)

// Required makes an attribute one the config must set.
func Required(a *Attribute) { a.Required = true }

// Sensitive hides an attribute's value from logs, errors and the status API.
func Sensitive(a *Attribute) { a.Sensitive = true }

// Default sets the value an unset attribute takes: a string, float64,
// bool, string (for a duration), []string or map[string]string.
func Default(v any) AttributeOption { return func(a *Attribute) { a.Default = v } }

func newAttribute(name string, t AttributeType, description string, opts []AttributeOption) Attribute {
	a := Attribute{Name: name, Type: t, Description: description}
	for _, o := range opts {
		o(&a)
	}
	return a
}

// String declares a string attribute.
func String(name, description string, opts ...AttributeOption) Attribute {
	return newAttribute(name, TypeString, description, opts)
}

// Number declares a number attribute.
func Number(name, description string, opts ...AttributeOption) Attribute {
	return newAttribute(name, TypeNumber, description, opts)
}

// Bool declares a bool attribute.
func Bool(name, description string, opts ...AttributeOption) Attribute {
	return newAttribute(name, TypeBool, description, opts)
}

// Duration declares a duration attribute, written "30s" or "1h30m".
func Duration(name, description string, opts ...AttributeOption) Attribute {
	return newAttribute(name, TypeDuration, description, opts)
}

// StringList declares a list-of-strings attribute.
func StringList(name, description string, opts ...AttributeOption) Attribute {
	return newAttribute(name, TypeStringList, description, opts)
}

// StringMap declares a map-of-strings attribute.
func StringMap(name, description string, opts ...AttributeOption) Attribute {
	return newAttribute(name, TypeStringMap, description, opts)
}

// Schema is the list of a plugin's config attributes.
type Schema []Attribute

// Attribute returns the attribute called name, or false.
func (s Schema) Attribute(name string) (Attribute, bool) {
	for _, a := range s {
		if a.Name == name {
			return a, true
		}
	}
	return Attribute{}, false
}

// check reports a schema that cannot be right: a nameless or duplicate
// attribute, an unknown type, or a default of the wrong type.
func (s Schema) check() error {
	seen := map[string]bool{}
	for _, a := range s {
		if a.Name == "" {
			return errors.New("schema has an attribute without a name")
		}
		if seen[a.Name] {
			return fmt.Errorf("schema declares attribute %q twice", a.Name)
		}
		seen[a.Name] = true
		if a.Type < TypeString || a.Type > TypeStringMap {
			return fmt.Errorf("attribute %q has an unknown type %d", a.Name, int(a.Type))
		}
		if a.Default != nil {
			if _, err := convert(a, a.Default); err != nil {
				return fmt.Errorf("default of attribute %q: %w", a.Name, err)
			}
		}
	}
	return nil
}

// Parse decodes a config given as a JSON object against the schema: it
// refuses unknown attributes, missing required ones and values of the
// wrong type, each with an *AttributeError, and fills in defaults.
func (s Schema) Parse(configJSON []byte) (Config, error) {
	raw := map[string]any{}
	if len(configJSON) > 0 {
		if err := json.Unmarshal(configJSON, &raw); err != nil {
			return Config{}, fmt.Errorf("config is not a JSON object: %w", err)
		}
	}
	return s.Values(raw)
}

// Values checks and converts attribute values as JSON decoding gives them
// (string, float64, bool, []any, map[string]any) or as Go gives them
// ([]string, map[string]string, numbers), the way Parse does.
func (s Schema) Values(raw map[string]any) (Config, error) {
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if _, ok := s.Attribute(name); !ok {
			return Config{}, &AttributeError{Attribute: name, Err: errors.New("no such attribute")}
		}
	}
	c := Config{values: map[string]any{}, schema: s}
	for _, a := range s {
		v, set := raw[a.Name]
		if !set || v == nil {
			if a.Required {
				return Config{}, &AttributeError{Attribute: a.Name, Err: errors.New("is required")}
			}
			if a.Default == nil {
				continue
			}
			v = a.Default
		}
		conv, err := convert(a, v)
		if err != nil {
			if a.Sensitive {
				err = fmt.Errorf("want %s", a.Type)
			}
			return Config{}, &AttributeError{Attribute: a.Name, Err: err}
		}
		c.values[a.Name] = conv
	}
	return c, nil
}

// convert turns v into the Go type Config holds for a's type.
func convert(a Attribute, v any) (any, error) {
	wrong := func() error { return fmt.Errorf("want %s, got %s", a.Type, describe(v)) }
	switch a.Type {
	case TypeString:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case TypeNumber:
		switch n := v.(type) {
		case float64:
			return n, nil
		case int:
			return float64(n), nil
		case int64:
			return float64(n), nil
		case json.Number:
			return n.Float64()
		}
	case TypeBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case TypeDuration:
		switch d := v.(type) {
		case string:
			parsed, err := parseDuration(d)
			if err != nil {
				return nil, fmt.Errorf("%q is not a duration such as \"30s\" or \"1h30m\"", d)
			}
			return parsed, nil
		case time.Duration:
			return d, nil
		}
	case TypeStringList:
		switch l := v.(type) {
		case []string:
			return slices.Clone(l), nil
		case []any:
			out := make([]string, 0, len(l))
			for _, e := range l {
				s, ok := e.(string)
				if !ok {
					return nil, wrong()
				}
				out = append(out, s)
			}
			return out, nil
		}
	case TypeStringMap:
		switch m := v.(type) {
		case map[string]string:
			out := make(map[string]string, len(m))
			for k, e := range m {
				out[k] = e
			}
			return out, nil
		case map[string]any:
			out := make(map[string]string, len(m))
			for k, e := range m {
				s, ok := e.(string)
				if !ok {
					return nil, wrong()
				}
				out[k] = s
			}
			return out, nil
		}
	}
	return nil, wrong()
}

func describe(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case float64, int, int64, json.Number:
		return "a number"
	case bool:
		return "a bool"
	case []any, []string:
		return "a list"
	case map[string]any, map[string]string:
		return "a map"
	}
	return fmt.Sprintf("%T", v)
}

// Config is a plugin's config, checked against its schema. Its getters
// return the zero value for an attribute that is not set and has no
// default.
type Config struct {
	values map[string]any
	schema Schema
}

// Has says whether the attribute was set or has a default.
func (c Config) Has(name string) bool { _, ok := c.values[name]; return ok }

// String returns a string attribute.
func (c Config) String(name string) string { s, _ := c.values[name].(string); return s }

// Number returns a number attribute.
func (c Config) Number(name string) float64 { n, _ := c.values[name].(float64); return n }

// Bool returns a bool attribute.
func (c Config) Bool(name string) bool { b, _ := c.values[name].(bool); return b }

// Duration returns a duration attribute.
func (c Config) Duration(name string) time.Duration { d, _ := c.values[name].(time.Duration); return d }

// StringList returns a list-of-strings attribute.
func (c Config) StringList(name string) []string { l, _ := c.values[name].([]string); return l }

// StringMap returns a map-of-strings attribute.
func (c Config) StringMap(name string) map[string]string {
	m, _ := c.values[name].(map[string]string)
	return m
}

// JSON encodes the config as Configure sends it: durations as strings.
func (c Config) JSON() ([]byte, error) {
	out := make(map[string]any, len(c.values))
	for k, v := range c.values {
		if d, ok := v.(time.Duration); ok {
			v = formatDuration(d)
		}
		out[k] = v
	}
	return json.Marshal(out)
}

// Redacted returns the config as text for logs and status pages, with
// sensitive values shown as "<secret>".
func (c Config) Redacted() map[string]any {
	out := make(map[string]any, len(c.values))
	for k, v := range c.values {
		if a, _ := c.schema.Attribute(k); a.Sensitive {
			v = "<secret>"
		} else if d, ok := v.(time.Duration); ok {
			v = formatDuration(d)
		}
		out[k] = v
	}
	return out
}
