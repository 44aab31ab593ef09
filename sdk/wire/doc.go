// Package wire encodes and decodes the plugin protocol's notifications by
// hand, where proto's reflection costs the most: a notification is a dozen
// maps of labels and annotations, which proto.Marshal and proto.Unmarshal
// handle through reflection, one allocation per entry and more.
//
// MarshalNotifyRequest and DecodeNotifyRequest write and read the same
// bytes as proto. sdk.GRPCCodec, the gRPC codec of both ends of the
// protocol, uses them for NotifyRequest and proto for every other
// message; the Wasm host encodes its NotifyRequest with
// MarshalNotifyRequest and the Wasm guest SDK decodes it with
// DecodeNotifyRequest.
package wire
