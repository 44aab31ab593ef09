package wasm

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
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

// appendHTTPRequest appends the JSON of r, as json.Marshal writes it but
// for the order of the headers and the escaping of <, > and &, which
// JSON readers take alike; without json.Marshal's reflection, which
// compiled to Wasm costs a good part of a request's time.
func appendHTTPRequest(b []byte, r *HTTPRequest) []byte {
	b = append(b, `{"method":`...)
	b = appendJSONString(b, r.Method)
	b = append(b, `,"url":`...)
	b = appendJSONString(b, r.URL)
	if len(r.Header) > 0 {
		b = append(b, `,"headers":{`...)
		first := true
		for k, vs := range r.Header {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendJSONString(b, k)
			if vs == nil {
				b = append(b, ":null"...)
				continue
			}
			b = append(b, ":["...)
			for i, v := range vs {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendJSONString(b, v)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	if len(r.Body) > 0 {
		b = append(b, `,"body":"`...)
		b = base64.StdEncoding.AppendEncode(b, r.Body)
		b = append(b, '"')
	}
	if r.TimeoutMillis != 0 {
		b = append(b, `,"timeout_ms":`...)
		b = strconv.AppendInt(b, r.TimeoutMillis, 10)
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, and bytes that are not UTF-8 replaced by
// U+FFFD, as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
