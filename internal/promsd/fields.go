// Package promsd describes the config structs of Prometheus's service
// discovery mechanisms as Vigil plugin attributes: Fields walks a
// struct's yaml tags and says, for each attribute, its name, type and
// where and how its value goes in the upstream YAML. The discovery
// plugins built on Prometheus's mechanisms derive their schema from it,
// and vigil config import writes their config blocks with it.
package promsd

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/vigilmon/vigil/sdk"
)

// Form is how an attribute's value goes into the YAML document given to
// the upstream config.
type Form int

const (
	// Plain values go in as they are (a duration as its string).
	Plain Form = iota
	// YAMLText is a string holding YAML, for a field whose shape the
	// schema's types cannot hold (a map of lists, say).
	YAMLText
	// YAMLList is a list of strings, each holding one YAML element of a
	// list of blocks (kubernetes selectors, ec2 filters).
	YAMLList
)

// Field is one attribute of the derived schema: where it goes in the
// upstream YAML, and how.
type Field struct {
	Attr sdk.Attribute
	Path []string // YAML keys, outermost first
	Form Form
}

var (
	durationType = reflect.TypeFor[model.Duration]()
	secretType   = reflect.TypeFor[config.Secret]()
	urlType      = reflect.TypeFor[config.URL]()
	tlsVerType   = reflect.TypeFor[config.TLSVersion]()
)

// maxDepth bounds how deep the derivation follows nested structs.
const maxDepth = 6

// Fields walks the yaml tags of the upstream config's struct t (or a
// pointer to it) of the mechanism mech ("kubernetes"). An inline
// struct's fields are the parent's; a nested block's fields are
// attributes named parent_child, as tls_config.ca_file becomes
// tls_config_ca_file.
func Fields(t reflect.Type, mech string) ([]Field, error) {
	var fields []Field
	seen := map[string]bool{}
	var walk func(t reflect.Type, prefix string, path []string, depth int) error
	walk = func(t reflect.Type, prefix string, path []string, depth int) error {
		if depth > maxDepth {
			return fmt.Errorf("%s: nesting deeper than %d at %s", t, maxDepth, strings.Join(path, "."))
		}
		for i := range t.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() {
				continue
			}
			tag := sf.Tag.Get("yaml")
			if tag == "-" {
				continue
			}
			key, opts, _ := strings.Cut(tag, ",")
			ft := sf.Type
			if strings.Contains(","+opts+",", ",inline,") {
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() != reflect.Struct {
					continue // an inline map of extra keys: nothing to declare
				}
				if err := walk(ft, prefix, path, depth+1); err != nil {
					return err
				}
				continue
			}
			if key == "" {
				key = strings.ToLower(sf.Name)
			}
			name := prefix + key
			p := append(append([]string(nil), path...), key)
			if st := structOf(ft); st != nil {
				if err := walk(st, name+"_", p, depth+1); err != nil {
					return err
				}
				continue
			}
			typ, fm := attributeType(ft)
			if seen[name] {
				return fmt.Errorf("%s: two fields become the attribute %q", t, name)
			}
			seen[name] = true
			a := sdk.Attribute{Name: name, Type: typ, Description: describeField(mech, p, fm)}
			a.Sensitive = holdsSecret(ft, 0)
			fields = append(fields, Field{Attr: a, Path: p, Form: fm})
		}
		return nil
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%s is not a struct", t)
	}
	if err := walk(t, "", nil, 0); err != nil {
		return nil, err
	}
	return fields, nil
}

// structOf returns the struct a field nests as a block of its own, or
// nil for a field that is one value (a URL is a struct written as a
// string).
func structOf(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == urlType {
		return nil
	}
	for i := range t.NumField() {
		key, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if t.Field(i).IsExported() && key != "" && key != "-" {
			return t
		}
	}
	return nil // a struct of no named YAML fields is written some other way
}

// attributeType maps a field's Go type to the attribute type that holds
// it, and the form it takes in the YAML.
func attributeType(t reflect.Type) (sdk.AttributeType, Form) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		return sdk.TypeDuration, Plain
	case t == urlType, t == tlsVerType, t == secretType:
		return sdk.TypeString, Plain
	}
	switch t.Kind() {
	case reflect.String:
		return sdk.TypeString, Plain
	case reflect.Bool:
		return sdk.TypeBool, Plain
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return sdk.TypeNumber, Plain
	case reflect.Slice:
		e := t.Elem()
		if e.Kind() == reflect.String {
			return sdk.TypeStringList, Plain
		}
		if structOf(e) != nil {
			return sdk.TypeStringList, YAMLList
		}
	case reflect.Map:
		if t.Key().Kind() == reflect.String && t.Elem().Kind() == reflect.String {
			return sdk.TypeStringMap, Plain
		}
	}
	return sdk.TypeString, YAMLText
}

func describeField(mech string, path []string, fm Form) string {
	d := fmt.Sprintf("Prometheus's %s_sd_config field %s.", mech, strings.Join(path, "."))
	switch fm {
	case YAMLList:
		d += " Each element is one entry of the list, written in YAML flow style, e.g. \"{name: a, values: [b]}\"."
	case YAMLText:
		d += " Its value is written in YAML, as in Prometheus's configuration."
	}
	return d
}

// holdsSecret says whether a value of type t holds a config.Secret.
func holdsSecret(t reflect.Type, depth int) bool {
	if t == secretType {
		return true
	}
	if depth > maxDepth {
		return false
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return holdsSecret(t.Elem(), depth+1)
	case reflect.Struct:
		for i := range t.NumField() {
			if holdsSecret(t.Field(i).Type, depth+1) {
				return true
			}
		}
	}
	return false
}

// HTTPClientAttributes returns the attributes Prometheus's common HTTP
// client settings (config.HTTPClientConfig) become, which the
// mechanisms that talk HTTP share.
func HTTPClientAttributes() sdk.Schema {
	fields, err := Fields(reflect.TypeFor[config.HTTPClientConfig](), "")
	if err != nil {
		panic(err)
	}
	out := make(sdk.Schema, 0, len(fields))
	for _, f := range fields {
		out = append(out, f.Attr)
	}
	return out
}

// Known returns the fields of the mechanism named mech ("kubernetes"),
// one of those the first-party discovery plugins serve, for a program
// that does not link the mechanism's package; ok is false for another.
func Known(mech string) (fields []Field, ok bool) {
	fields, ok = known[mech]
	return fields, ok
}
