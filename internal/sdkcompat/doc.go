// Package sdkcompat holds only tests: they check that the plugin SDK,
// which keeps its own small module and so does not import
// prometheus/common or client_golang, agrees with them where Vigil and
// plugins meet — durations as the host accepts them, and a client_golang
// registry as an Exporter's source of metrics.
package sdkcompat
