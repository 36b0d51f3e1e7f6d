package channel

import (
	"context"
	"time"

	"github.com/ebmflow/ebmflow/internal/wire"
)

// Handler serves one request. It returns a status code (0 for success,
// else a gRPC code), the answer's meta (the response message, or an
// encoded google.rpc.Status for an error) and the answer's tensors.
type Handler func(ctx context.Context, req *Request) (code uint32, meta []byte, ts []wire.Named)

// Options configure a Listener.
type Options struct {
	// Peer is the only process id allowed to connect.
	Peer int
	// Limit is the largest tensor accepted in a request, in bytes.
	Limit int64
	// Handler serves each request.
	Handler Handler
	// AcceptTimeout bounds the wait for the peer to connect; 2 minutes if
	// zero.
	AcceptTimeout time.Duration
	// Borrow, if set, names the methods whose handlers use the request's
	// tensors only until they return: those are decoded into storage the
	// lane reuses, sparing an allocation (and the zeroing of fresh memory)
	// per call.
	Borrow func(method string) bool
	// Stream, if set, names the methods whose requests' tensors the
	// handler reads as they arrive (Request.Body) instead of decoded
	// whole: a stage's state loaded from a checkpoint.
	Stream func(method string) bool
	// Log, if set, receives one line for each refused connection or lane.
	Log func(msg string, err error)
}
