// Package wasm serves a Vigil plugin from a WebAssembly module, the
// sandboxed alternative to the gRPC programs of sdk.Serve. A plugin
// author writes the same sdk.Plugin, registers it from an init function
// and leaves main empty:
//
//	func init() {
//		wasm.Register(sdk.Plugin{
//			Info:     sdk.Info{Name: "hello", Version: "0.1.0", Description: "Says hello."},
//			Notifier: newHello,
//		})
//	}
//
//	func main() {}
//
// and builds a reactor module:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o hello.wasm .
//
// The module has no files, sockets or environment. It reaches the network
// only through HTTPClient's Client, whose requests the host makes on its
// behalf to the hosts the plugin block allows (allow_hosts), and which
// follows redirects as net/http does, each hop checked again; it has no
// Transport, so a module links neither net/http's, nor its HTTP/2, nor
// the TLS client. It logs through Logger. Exporters, discoverers and
// notifiers are supported. A discoverer must implement sdk.PollingDiscoverer: a module cannot
// stream, so the host polls it at its config's refresh_interval (which
// its schema should declare; 60s without one), and sends what changed. A multi-target
// exporter implements sdk.TargetCollector and claims
// sdk.CapabilityMultiTarget, as over gRPC.
//
// Start with Register. ABI.md in this package's directory specifies the
// ABI between host and module precisely enough to write a module in
// another language; the constants and message types below are the parts
// of it that the host shares with this package.
//
// Built for anything but wasip1, Register only records the plugin (see
// Registered), HTTPClient's Client sends with a plain *http.Client and
// Logger logs to stderr, so a plugin's code can be unit-tested with go
// test on the development machine.
package wasm

import (
	"errors"
	"fmt"
)

// ABIVersion is the version of the Wasm ABI this package implements; a
// module reports it from its vigil_abi_version export.
const ABIVersion = 2

// MinABIVersion is the oldest version of the ABI the host still loads.
// A module of version 1 has no vigil_discover call, and its exporter
// ignores the target of a CollectRequest.
const MinABIVersion = 1

// ImportModule is the name of the module the host's functions are
// imported from.
const ImportModule = "vigil"

// Names of the module's exports.
const (
	ExportABIVersion = "vigil_abi_version"
	ExportAlloc      = "vigil_alloc"
	ExportFree       = "vigil_free"
	ExportInfo       = "vigil_info"
	ExportSchema     = "vigil_schema"
	ExportConfigure  = "vigil_configure"
	ExportCollect    = "vigil_collect"
	ExportNotify     = "vigil_notify"
	// ExportDiscover is the polling discover call, from ABI version 2.
	ExportDiscover = "vigil_discover"
)

// Names of the host's functions, in module ImportModule.
const (
	ImportLog         = "log"
	ImportNow         = "now"
	ImportDeadline    = "deadline"
	ImportHTTPRequest = "http_request"
)

// Status is the first byte of a call's result frame: whether the call
// succeeded and what the rest of the frame holds.
type Status uint8

// The statuses of a result frame.
const (
	// StatusOK: the rest of the frame is the call's protobuf response.
	StatusOK Status = 0
	// StatusError: the call failed; the rest is a UTF-8 message.
	StatusError Status = 1
	// StatusBadRequest: the request could not be decoded; the rest is a
	// UTF-8 message.
	StatusBadRequest Status = 2
	// StatusNoPlugin: the module holds no valid plugin (Register was not
	// called, or with an invalid one); the rest is a UTF-8 message.
	StatusNoPlugin Status = 3
	// StatusPanic: the module failed in a way that may have damaged its
	// state; the rest is a UTF-8 message. The host discards the instance.
	StatusPanic Status = 4
)

// String returns the status's name as ABI.md writes it.
func (s Status) String() string {
	switch s {
	case StatusOK:
		return "OK"
	case StatusError:
		return "ERROR"
	case StatusBadRequest:
		return "BAD_REQUEST"
	case StatusNoPlugin:
		return "NO_PLUGIN"
	case StatusPanic:
		return "PANIC"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// Log levels of the log import; they are hclog's.
const (
	LevelTrace = 1
	LevelDebug = 2
	LevelInfo  = 3
	LevelWarn  = 4
	LevelError = 5
)

// Pack packs a pointer and a length into the 64-bit value the ABI returns
// them in: ptr in the high 32 bits, length in the low 32.
func Pack(ptr, length uint32) uint64 { return uint64(ptr)<<32 | uint64(length) }

// Unpack splits a value made by Pack.
func Unpack(v uint64) (ptr, length uint32) { return uint32(v >> 32), uint32(v) }

// HTTPRequest is the JSON message a module hands to the http_request
// import.
type HTTPRequest struct {
	Method string `json:"method"`
	// URL is absolute, http or https.
	URL    string              `json:"url"`
	Header map[string][]string `json:"headers,omitempty"`
	// Body is base64 in JSON.
	Body []byte `json:"body,omitempty"`
	// TimeoutMillis, when positive, bounds the request below the call's
	// own deadline.
	TimeoutMillis int64 `json:"timeout_ms,omitempty"`
}

// HTTPResponse is the JSON message the http_request import answers with.
// Either Error is set, or Status, Header and Body are.
type HTTPResponse struct {
	Status int                 `json:"status,omitempty"`
	Header map[string][]string `json:"headers,omitempty"`
	// Body is base64 in JSON.
	Body []byte `json:"body,omitempty"`
	// Error says why there is no response: the request was refused or
	// failed.
	Error string `json:"error,omitempty"`
	// Denied says the host refused the request because its host is not
	// in the plugin's allow_hosts.
	Denied bool `json:"denied,omitempty"`
}

// ErrHostNotAllowed is wrapped by the errors of HTTPClient's requests to
// a host the plugin block's allow_hosts does not list. Retrying will not
// help, so a notifier should return it with sdk.Permanent.
var ErrHostNotAllowed = errors.New("host not in allow_hosts")
