package hclconfig

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/units"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/vigilmon/vigil/internal/amatcher"
)

// The codecs of the attributes' types: each converts a value after it
// was converted to its HCL type, and reports what is wrong at the value
// or at the element of a list.

// plain is the codec of a Go type that gocty converts to and from ty as
// it is.
func plain[V any](ty cty.Type, kind string) codec[V] {
	return codec[V]{
		typ: ty, kind: kind,
		decode: func(at attrValue, v cty.Value) (V, bool) {
			var x V
			if err := gocty.FromCtyValue(v, &x); err != nil {
				at.errorf("Incorrect attribute value", "Attribute %q: %s.", at.name(), err)
				return x, false
			}
			return x, true
		},
		render: func(x V, _ renderOptions) cty.Value {
			v, err := gocty.ToCtyValue(x, ty)
			if err != nil {
				panic(fmt.Sprintf("a %T does not convert to %s: %v", x, ty.FriendlyName(), err))
			}
			return v
		},
	}
}

var (
	str     = plain[string](cty.String, "string")
	boolean = plain[bool](cty.Bool, "bool")
	strMap  = codec[map[string]string]{
		typ: cty.Map(cty.String), kind: "map of string",
		decode: plain[map[string]string](cty.Map(cty.String), "").decode,
		render: func(m map[string]string, _ renderOptions) cty.Value { return stringMap(m) },
	}
	strList = codec[[]string]{
		typ: cty.List(cty.String), kind: "list of string",
		decode: plain[[]string](cty.List(cty.String), "").decode,
		render: func(l []string, _ renderOptions) cty.Value { return stringList(l) },
	}
	strListMap = plain[map[string][]string](cty.Map(cty.List(cty.String)), "map of list of string")
)

// count is a number that must not be negative.
var count = codec[int]{
	typ: cty.Number, kind: "number",
	decode: func(at attrValue, v cty.Value) (int, bool) {
		n, ok := plain[int](cty.Number, "").decode(at, v)
		if ok && n < 0 {
			at.errorf("Invalid "+at.name(), "%s must not be negative, got %d.", at.name(), n)
			return 0, false
		}
		return n, ok
	},
	render: func(n int, _ renderOptions) cty.Value { return cty.NumberIntVal(int64(n)) },
}

// positive is a count that must not be zero either.
var positive = codec[int]{
	typ: cty.Number, kind: "number",
	decode: func(at attrValue, v cty.Value) (int, bool) {
		n, ok := count.decode(at, v)
		if ok && n == 0 {
			at.errorf("Invalid "+at.name(), "%s must be positive.", at.name())
			return 0, false
		}
		return n, ok
	},
	render: count.render,
}

// duration is a Prometheus duration such as "15s", "1h30m" or "15d",
// greater than zero.
func duration[D ~int64]() codec[D] {
	return codec[D]{
		typ: cty.String, kind: "duration",
		decode: func(at attrValue, v cty.Value) (D, bool) {
			s := v.AsString()
			d, err := model.ParseDuration(s)
			if err != nil || d <= 0 {
				invalidDuration(at, s)
				return 0, false
			}
			return D(d), true
		},
		render: func(d D, _ renderOptions) cty.Value { return cty.StringVal(model.Duration(d).String()) },
	}
}

// durationOrZero is a duration that may be zero, such as an alert's for.
func durationOrZero[D ~int64]() codec[D] {
	return codec[D]{
		typ: cty.String, kind: "duration",
		decode: func(at attrValue, v cty.Value) (D, bool) {
			s := v.AsString()
			if strings.HasPrefix(strings.TrimSpace(s), "-") {
				at.errorf("Invalid "+at.name(), "%s must not be negative, got %q.", at.name(), s)
				return 0, false
			}
			d, err := model.ParseDuration(s)
			if err != nil {
				invalidDuration(at, s)
				return 0, false
			}
			return D(d), true
		},
		render: duration[D]().render,
	}
}

func invalidDuration(at attrValue, value string) {
	at.errorf("Invalid duration", "%q is not a valid duration for %s; write it as Prometheus does, such as \"15s\", \"1h30m\" or \"15d\".", value, at.name())
}

// optionalDuration is durationOrZero kept as a pointer, nil when not set,
// as rulefmt keeps a group's query_offset.
var optionalDuration = codec[*model.Duration]{
	typ: cty.String, kind: "duration",
	decode: func(at attrValue, v cty.Value) (*model.Duration, bool) {
		d, ok := durationOrZero[model.Duration]().decode(at, v)
		return &d, ok
	},
	render: func(d *model.Duration, o renderOptions) cty.Value {
		if d == nil {
			return cty.NullVal(cty.String)
		}
		return durationOrZero[model.Duration]().render(*d, o)
	},
}

// size is a number of bytes written as "10MB" or "512KB" (units of 1024).
var size = codec[int64]{
	typ: cty.String, kind: "size",
	decode: func(at attrValue, v cty.Value) (int64, bool) {
		s := v.AsString()
		n, err := units.ParseBase2Bytes(s)
		if err != nil || n < 0 {
			at.errorf("Invalid size", "%q is not a valid size for %s; write it like \"10MB\" or \"512KB\".", s, at.name())
			return 0, false
		}
		return int64(n), true
	},
	render: func(n int64, _ renderOptions) cty.Value { return cty.StringVal(bytesString(n)) },
}

// bytesString writes a size in the largest unit of 1024 that divides it.
func bytesString(n int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}} {
		if n != 0 && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// secret is a string that renders as "<secret>".
var secret = codec[Secret]{
	typ: cty.String, kind: "string, secret",
	decode: func(_ attrValue, v cty.Value) (Secret, bool) { return Secret(v.AsString()), true },
	render: func(s Secret, o renderOptions) cty.Value {
		if o.secrets {
			return cty.StringVal(s.Value())
		}
		return cty.StringVal(s.String())
	},
}

// routePrefix is a path that starts with "/", kept without its trailing
// "/": "/vigil/" is "/vigil", and "/" is "", the root.
var routePrefix = codec[string]{
	typ: cty.String, kind: "string",
	decode: func(at attrValue, v cty.Value) (string, bool) {
		p := v.AsString()
		if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "?#") || strings.Contains(p, "//") {
			at.errorf("Invalid route_prefix", "route_prefix must be a path that starts with /, such as \"/vigil\", not %q.", p)
			return "", false
		}
		return strings.TrimRight(p, "/"), true
	},
	render: func(p string, _ renderOptions) cty.Value { return cty.StringVal(p) },
}

// httpURL is an absolute http or https URL without a query, or nil for
// ""; summary heads its diagnostic.
func httpURL(summary string) codec[*url.URL] {
	return codec[*url.URL]{
		typ: cty.String, kind: "URL",
		decode: func(at attrValue, v cty.Value) (*url.URL, bool) {
			if v.AsString() == "" {
				return nil, true
			}
			u, err := parseHTTPURL(v.AsString())
			if err != nil {
				at.errorf(summary, "%s", err)
				return nil, false
			}
			return u, true
		},
		render: func(u *url.URL, o renderOptions) cty.Value { return cty.StringVal(urlString(u, o)) },
	}
}

// urlString writes u with its password hidden unless o.secrets.
func urlString(u *url.URL, o renderOptions) string {
	switch {
	case u == nil:
		return ""
	case o.secrets:
		return u.String()
	}
	return u.Redacted()
}

// parseHTTPURL parses an absolute http or https URL without a query.
func parseHTTPURL(s string) (*url.URL, error) {
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
		return nil, fmt.Errorf("%q must start with http:// or https://", s)
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%q is not a URL: %v", s, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%q must start with http:// or https://", s)
	case u.Host == "":
		return nil, fmt.Errorf("%q has no host", s)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("%q must not have a query or fragment", s)
	}
	return u, nil
}

// listOfEach is the codec of a list whose elements one function converts,
// each mistake reported at its element with summary.
func listOfEach[E any](kind, summary string, parse func(string) (E, error), format func(E, renderOptions) string) codec[[]E] {
	return codec[[]E]{
		typ: cty.List(cty.String), kind: kind,
		decode: func(at attrValue, v cty.Value) ([]E, bool) {
			texts, ok := strList.decode(at, v)
			if !ok {
				return nil, false
			}
			out := make([]E, 0, len(texts))
			for i, s := range texts {
				e, err := parse(s)
				if err != nil {
					at.elemErrorf(i, summary, "%s.", err)
					continue
				}
				out = append(out, e)
			}
			return out, true
		},
		render: func(l []E, o renderOptions) cty.Value {
			texts := make([]string, len(l))
			for i, e := range l {
				texts[i] = format(e, o)
			}
			return stringList(texts)
		},
	}
}

// matchers are label matchers in Alertmanager's syntax; one string may
// hold one matcher or several.
var matchers = codec[[]*labels.Matcher]{
	typ: cty.List(cty.String), kind: "list of matchers",
	decode: func(at attrValue, v cty.Value) ([]*labels.Matcher, bool) {
		lists, ok := listOfEach("", "Invalid matcher", amatcher.Parse, nil).decode(at, v)
		return slices.Concat(lists...), ok
	},
	render: listOfEach("", "", nil, func(m *labels.Matcher, _ renderOptions) string { return amatcher.Format(m) }).render,
}

// labelNameList is a list of label names.
var labelNameList = codec[[]string]{
	typ: cty.List(cty.String), kind: "list of string",
	decode: func(at attrValue, v cty.Value) ([]string, bool) {
		names, ok := strList.decode(at, v)
		for i, n := range names {
			if !model.UTF8Validation.IsValidLabelName(n) {
				at.elemErrorf(i, "Invalid label name", "%q in %s is not a valid label name.", n, at.name())
			}
		}
		return names, ok
	},
	render: strList.render,
}

// location is a time zone of the IANA database; nil is UTC.
var location = codec[*time.Location]{
	typ: cty.String, kind: "string",
	decode: func(at attrValue, v cty.Value) (*time.Location, bool) {
		name := v.AsString()
		l, err := time.LoadLocation(name)
		if err != nil || name == "" {
			at.errorf("Unknown location", "%q is not a time zone; write one of the IANA database, such as \"Europe/Berlin\", or \"UTC\".", name)
			return nil, false
		}
		return l, true
	},
	render: func(l *time.Location, _ renderOptions) cty.Value {
		if l == nil {
			return cty.NullVal(cty.String)
		}
		return cty.StringVal(l.String())
	},
}

func stringList(ss []string) cty.Value {
	if len(ss) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vals := make([]cty.Value, len(ss))
	for i, s := range ss {
		vals[i] = cty.StringVal(s)
	}
	return cty.ListVal(vals)
}

func stringMap(m map[string]string) cty.Value {
	if len(m) == 0 {
		return cty.MapValEmpty(cty.String)
	}
	vals := make(map[string]cty.Value, len(m))
	for k, v := range m {
		vals[k] = cty.StringVal(v)
	}
	return cty.ObjectVal(vals)
}
