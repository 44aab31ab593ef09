//go:build wasip1

package wasm

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"
	"unsafe"

	"google.golang.org/protobuf/proto"

	"github.com/vigilmon/vigil/sdk"
	pb "github.com/vigilmon/vigil/sdk/proto/vigil/plugin/v1"
	"github.com/vigilmon/vigil/sdk/wire"
)

// pinned holds the buffers handed to the host, by address, until the host
// frees them: the host's references are invisible to the garbage
// collector. Go's collector does not move objects, so an address stays
// valid while its buffer is here. A module runs one call at a time, so
// the map needs no lock.
var pinned = map[uint32][]byte{}

// pin keeps b alive until vigil_free and returns its address.
func pin(b []byte) uint32 {
	p := uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
	pinned[p] = b
	return p
}

//go:wasmexport vigil_abi_version
func exportABIVersion() uint32 { return ABIVersion }

//go:wasmexport vigil_alloc
func exportAlloc(size uint32) uint32 {
	// A zero size still gets a distinct, freeable address.
	return pin(make([]byte, max(size, 1)))
}

//go:wasmexport vigil_free
func exportFree(ptr uint32) { delete(pinned, ptr) }

//go:wasmexport vigil_info
func exportInfo(ptr, size uint32) uint64 {
	return serve(ptr, size, nil, func(s *sdk.Server) (proto.Message, error) { return s.Info(), nil })
}

//go:wasmexport vigil_schema
func exportSchema(ptr, size uint32) uint64 {
	return serve(ptr, size, nil, func(s *sdk.Server) (proto.Message, error) { return s.Schema(), nil })
}

//go:wasmexport vigil_configure
func exportConfigure(ptr, size uint32) uint64 {
	req := &pb.ConfigureRequest{}
	return serve(ptr, size, req, func(s *sdk.Server) (proto.Message, error) { return s.Configure(req), nil })
}

//go:wasmexport vigil_collect
func exportCollect(ptr, size uint32) uint64 {
	req := &pb.CollectRequest{}
	return serve(ptr, size, req, func(s *sdk.Server) (proto.Message, error) {
		ctx, cancel := callContext()
		defer cancel()
		// The chunks that bound gRPC messages are joined back into one
		// response; a family split over chunks stays split, as the
		// delimited format allows.
		resp := &pb.CollectResponse{}
		err := s.CollectRequest(ctx, req, func(c *pb.CollectResponse) error {
			resp.MetricFamilies = append(resp.MetricFamilies, c.MetricFamilies...)
			if c.TargetError != "" {
				resp.TargetError = c.TargetError
			}
			return nil
		})
		return resp, err
	})
}

//go:wasmexport vigil_discover
func exportDiscover(ptr, size uint32) uint64 {
	req := &pb.DiscoverRequest{}
	return serve(ptr, size, req, func(s *sdk.Server) (proto.Message, error) {
		ctx, cancel := callContext()
		defer cancel()
		return s.Poll(ctx)
	})
}

//go:wasmexport vigil_notify
func exportNotify(ptr, size uint32) uint64 {
	req := &pb.NotifyRequest{}
	return serve(ptr, size, req, func(s *sdk.Server) (proto.Message, error) {
		ctx, cancel := callContext()
		defer cancel()
		return s.Notify(ctx, req), nil
	})
}

// serve runs one call: it decodes the request from the buffer at ptr
// into req (unless req is nil), runs handle, and returns the packed
// address and length of the result frame.
func serve(ptr, size uint32, req proto.Message, handle func(*sdk.Server) (proto.Message, error)) (result uint64) {
	defer func() {
		if r := recover(); r != nil {
			result = frame(StatusPanic, []byte(fmt.Sprintf("panic: %v\n%s", r, debug.Stack())))
		}
	}()
	srv, err := registeredServer()
	if err != nil {
		return frame(StatusNoPlugin, []byte(err.Error()))
	}
	if req != nil && size > 0 {
		in, ok := pinned[ptr]
		if !ok || uint32(len(in)) < size {
			return frame(StatusBadRequest, []byte(fmt.Sprintf("the request at %#x (%d bytes) is not a buffer from vigil_alloc", ptr, size)))
		}
		if err := unmarshal(in[:size], req); err != nil {
			return frame(StatusBadRequest, []byte(fmt.Sprintf("cannot decode the request: %v", err)))
		}
	}
	resp, err := handle(srv)
	if err != nil {
		return frame(StatusError, []byte(err.Error()))
	}
	out, err := proto.MarshalOptions{}.MarshalAppend([]byte{byte(StatusOK)}, resp)
	if err != nil {
		return frame(StatusError, []byte(fmt.Sprintf("cannot encode the response: %v", err)))
	}
	return Pack(pin(out), uint32(len(out)))
}

// unmarshal decodes a request: a NotifyRequest with wire.DecodeNotifyRequest,
// falling back to proto.Unmarshal (and its error) when that fails.
func unmarshal(b []byte, req proto.Message) error {
	if n, ok := req.(*pb.NotifyRequest); ok {
		if wire.DecodeNotifyRequest(b, n) == nil {
			return nil
		}
		proto.Reset(n)
	}
	return proto.Unmarshal(b, req)
}

// frame pins a result frame of the status and payload and returns its
// packed address and length.
func frame(s Status, payload []byte) uint64 {
	out := make([]byte, 1+len(payload))
	out[0] = byte(s)
	copy(out[1:], payload)
	return Pack(pin(out), uint32(len(out)))
}

// callContext is the context of a call: it ends at the host's deadline
// for the call, if there is one.
func callContext() (context.Context, context.CancelFunc) {
	if d := hostDeadline(); d > 0 {
		return context.WithDeadline(context.Background(), time.Unix(0, d))
	}
	return context.WithCancel(context.Background())
}

//go:wasmimport vigil deadline
func hostDeadline() int64

//go:wasmimport vigil now
func hostNow() int64

// Now returns the current time: the host's clock in a module, the
// system's otherwise.
func Now() time.Time { return time.Unix(0, hostNow()) }
