package wasm

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// decodeHTTPResponse decodes the host's answer to http_request as
// json.Unmarshal does. Compiled to Wasm, json.Unmarshal's reflection
// costs a good part of a request's time, so the JSON the host writes
// (encoding/json's compact output) is read by hand, and anything else,
// such as white space or an unknown key, is left to json.Unmarshal.
func decodeHTTPResponse(b []byte, resp *HTTPResponse) error {
	if fastDecodeHTTPResponse(b, resp) == nil {
		return nil
	}
	*resp = HTTPResponse{}
	return json.Unmarshal(b, resp)
}

var errNotCompact = errors.New("not the compact JSON of an HTTPResponse")

func fastDecodeHTTPResponse(b []byte, resp *HTTPResponse) error {
	d := jsonReader{s: string(b)}
	if !d.eat('{') {
		return errNotCompact
	}
	for first := true; !d.eat('}'); first = false {
		if !first && !d.eat(',') {
			return errNotCompact
		}
		key, ok := d.str()
		if !ok || !d.eat(':') {
			return errNotCompact
		}
		switch key {
		case "status":
			end := strings.IndexAny(d.s, ",}")
			if end < 0 {
				return errNotCompact
			}
			n, err := strconv.Atoi(d.s[:end])
			if err != nil {
				return errNotCompact
			}
			resp.Status, d.s = n, d.s[end:]
		case "headers":
			h, ok := d.headers()
			if !ok {
				return errNotCompact
			}
			resp.Header = h
		case "body":
			s, ok := d.str()
			if !ok {
				return errNotCompact
			}
			body, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return errNotCompact
			}
			resp.Body = body
		case "error":
			if resp.Error, ok = d.str(); !ok {
				return errNotCompact
			}
		case "denied":
			switch {
			case strings.HasPrefix(d.s, "true"):
				resp.Denied, d.s = true, d.s[4:]
			case strings.HasPrefix(d.s, "false"):
				resp.Denied, d.s = false, d.s[5:]
			default:
				return errNotCompact
			}
		default:
			return errNotCompact
		}
	}
	if d.s != "" {
		return errNotCompact
	}
	return nil
}

// jsonReader reads compact JSON from the front of s.
type jsonReader struct{ s string }

func (d *jsonReader) eat(c byte) bool {
	if d.s != "" && d.s[0] == c {
		d.s = d.s[1:]
		return true
	}
	return false
}

// str reads a string; one with escapes is unquoted by strconv, whose
// escapes are those encoding/json writes.
func (d *jsonReader) str() (string, bool) {
	if !d.eat('"') {
		return "", false
	}
	escaped := false
	for i := 0; i < len(d.s); i++ {
		switch c := d.s[i]; {
		case c == '\\':
			escaped = true
			i++
		case c == '"':
			s := d.s[:i]
			d.s = d.s[i+1:]
			if !escaped {
				return s, true
			}
			u, err := strconv.Unquote(`"` + s + `"`)
			return u, err == nil
		case c < 0x20:
			return "", false
		}
	}
	return "", false
}

// headers reads an object of arrays of strings.
func (d *jsonReader) headers() (map[string][]string, bool) {
	if !d.eat('{') {
		return nil, false
	}
	h := map[string][]string{}
	for first := true; !d.eat('}'); first = false {
		if !first && !d.eat(',') {
			return nil, false
		}
		key, ok := d.str()
		if !ok || !d.eat(':') || !d.eat('[') {
			return nil, false
		}
		values := []string{}
		for vfirst := true; !d.eat(']'); vfirst = false {
			if !vfirst && !d.eat(',') {
				return nil, false
			}
			v, ok := d.str()
			if !ok {
				return nil, false
			}
			values = append(values, v)
		}
		h[key] = values
	}
	return h, true
}
