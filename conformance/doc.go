// Package conformance is the plugin conformance suite: checks that an
// exporter, discoverer or notifier plugin keeps the contract of the
// plugin protocol and of its kind, whether it is a program speaking
// gRPC, a WebAssembly module or a plugin in the test's own process.
//
// A plugin author calls the harness from go test, as csi-sanity's
// sanity.Test or promqltest's RunBuiltinTests are called:
//
//	func TestConformance(t *testing.T) {
//		conformance.Exporter(t, conformance.Program("bin/my-exporter"))
//	}
//
// Exporter, Discoverer and Notifier run each check as a subtest named by
// its ID. Run does the same without a testing.T and returns a Report,
// which WriteText, WriteJSON and WriteJUnit format; `vigil conformance
// run` is built on it. Checks lists the checks; CHECKS.md documents them
// and README.md shows how to use the suite.
package conformance
