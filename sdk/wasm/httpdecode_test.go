package wasm

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestDecodeHTTPResponse decodes what the host's json.Marshal writes as
// json.Unmarshal does, and leaves other JSON to json.Unmarshal.
func TestDecodeHTTPResponse(t *testing.T) {
	for name, r := range map[string]HTTPResponse{
		"empty":     {},
		"status":    {Status: 204},
		"full":      {Status: 200, Header: map[string][]string{"Content-Type": {"application/json"}, "Set-Cookie": {"a=1", "b=2"}, "Empty": {}}, Body: []byte(`{"ok":true}`)},
		"escapes":   {Status: 500, Header: map[string][]string{"X-\"Q\"": {"tab\there", "<b>&amp;</b>", "line\u2028sep", "ctl\x01\x1f", "bad\xffutf8", "ünï✓"}}, Body: []byte{0, 1, 2, 0xff}},
		"nil value": {Header: map[string][]string{"X": nil}},
		"error":     {Error: `GET example.com: dial tcp: "refused"\n`},
		"denied":    {Error: "host \"x\" is not in the plugin's allow_hosts", Denied: true},
	} {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var want, got HTTPResponse
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		if err := decodeHTTPResponse(b, &got); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %s decoded as %#v, %v; want %#v", name, b, got, err, want)
		}
		// The hand-written path reads all but a header without values
		// (null).
		var fast HTTPResponse
		if err := fastDecodeHTTPResponse(b, &fast); (err == nil) == (name == "nil value") {
			t.Errorf("%s: %s read by hand: %v", name, b, err)
		}
	}
	// Not as encoding/json writes it: json.Unmarshal decodes it.
	for _, b := range []string{
		` {"status": 200, "headers": {"A": ["b"]}}`,
		`{"Status":201}`,
		`{"status":200,"extra":{"x":[1,2]}}`,
	} {
		var want, got HTTPResponse
		_ = json.Unmarshal([]byte(b), &want)
		if err := decodeHTTPResponse([]byte(b), &got); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s decoded as %#v, %v; want %#v", b, got, err, want)
		}
	}
	for _, b := range []string{`{"status":"x"}`, `{"body":"not base64!"}`, `{"status":200`, ``} {
		if err := decodeHTTPResponse([]byte(b), &HTTPResponse{}); err == nil {
			t.Errorf("%q decoded", b)
		}
	}
}

// TestAppendHTTPRequest writes requests that decode as json.Marshal's do.
func TestAppendHTTPRequest(t *testing.T) {
	for name, r := range map[string]HTTPRequest{
		"get":              {Method: "GET", URL: "https://example.com/x?a=1&b=<2>"},
		"post":             {Method: "POST", URL: "http://h/", Header: map[string][]string{"Content-Type": {"application/json"}, "X-Many": {"a", "b"}, "X-None": {}, "X-Nil": nil}, Body: []byte(`{"text":"hi"}`), TimeoutMillis: 4999},
		"escapes":          {Method: "PUT", URL: "http://h/\"q\"", Header: map[string][]string{"X-\\": {"tab\t nl\n cr\r ctl\x01\x1f del\x7f", "bad\xffutf8 \xe2\x82", "ünï✓ \u2028"}}, Body: []byte{0, 0xff, 1}},
		"negative timeout": {Method: "GET", URL: "http://h", TimeoutMillis: -1},
	} {
		b := appendHTTPRequest(nil, &r)
		var got, want HTTPRequest
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("%s: %s: %v", name, b, err)
			continue
		}
		std, _ := json.Marshal(r)
		if err := json.Unmarshal(std, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %s decodes as %#v, want %#v", name, b, got, want)
		}
	}
}
