// Package wire encodes and decodes the plugin protocol's notifications by
// hand, where proto's reflection costs the most: a notification is a dozen
// maps of labels and annotations, which proto.Marshal and proto.Unmarshal
// handle through reflection, one allocation per entry and more.
//
// Codec is the gRPC codec both ends of the protocol use: it encodes and
// decodes NotifyRequest with AppendNotifyRequest and DecodeNotifyRequest,
// the same bytes proto would read, and every other message with proto.
// The Wasm guest SDK decodes its notifications with DecodeNotifyRequest
// too.
package wire
