package wire

import (
	"errors"
	"os"
	"strconv"

	"github.com/ebmflow/ebmflow/internal/pb"
	"github.com/ebmflow/ebmflow/sdk"
)

// Shared-memory tensors (Linux only; elsewhere every tensor goes inline).
//
// The caller of a call owns all of its shared memory: a Pool of sealed memfd
// segments, from which each call leases one region holding its request
// tensors followed by room for the answer. The request's first frame offers
// the answer room (Frame.reply); a callee that can map the caller's segment
// (/proc/<pid>/fd/<fd>, through a Mapper) writes its large answer tensors
// there, answers with handles, and sets Frame.shm_ok; from then on the
// caller sends its own large tensors as handles too. The region is released
// when the call has returned and its answer has been copied out; a call that
// ends abnormally (cancelled, deadline, crash) drops its region instead, so
// a callee still running cannot write into memory another call now uses.

// ShmEnv disables shared-memory tensors when set to 0.
const ShmEnv = "EBMFLOW_SHM"

// ShmMinEnv overrides the smallest tensor, in bytes, sent by handle.
const ShmMinEnv = "EBMFLOW_SHM_MIN"

// DefaultShmThreshold is the smallest tensor sent by handle unless
// EBMFLOW_SHM_MIN says otherwise. Measured across real processes (Grad of
// 100 x k float32, docs/performance.md): by handle is 10-16% faster from
// 6.4 KB, 30-44% from 25.6 KB, and no different at 3.6 KB and below, where
// the call itself is all the cost.
const DefaultShmThreshold = 4 << 10

// ErrShm reports a shared-memory handle that cannot be used: segment not
// mappable, stale, or a handle outside it. A callee answers it with
// FAILED_PRECONDITION before running the call, and the caller repeats the
// call inline.
var ErrShm = errors.New("shared-memory tensor unavailable")

// Placer hands out room in shared memory for a tensor of n bytes: the bytes
// to write and the handle naming them, or nil when there is no room.
type Placer interface {
	Place(n int64) ([]byte, *pb.ShmRef)
}

// Resolver checks a handle and passes the bytes it names to read, which
// must copy them before returning.
type Resolver interface {
	Resolve(ref *pb.ShmRef, read func([]byte)) error
}

// ShmEnabled reports whether this process uses shared-memory tensors:
// Linux, and EBMFLOW_SHM is not 0. A server decides when it starts; a
// client at every call.
func ShmEnabled() bool { return shmSupported && os.Getenv(ShmEnv) != "0" }

// ShmThreshold is the smallest tensor, in bytes, sent by handle:
// EBMFLOW_SHM_MIN if set to a positive number, else DefaultShmThreshold.
func ShmThreshold() int64 {
	if v := os.Getenv(ShmMinEnv); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return DefaultShmThreshold
}

// shmAlign aligns every region and tensor in a segment (a cache line).
const shmAlign = 64

func alignUp(n int64) int64 { return (n + shmAlign - 1) &^ (shmAlign - 1) }

// ShmBytes is the room the tensors of at least threshold bytes take in a
// segment, each aligned.
func ShmBytes(threshold int64, tensors ...Named) int64 {
	var n int64
	for _, t := range tensors {
		if t.Tensor == nil {
			continue
		}
		if b := int64(t.Tensor.Len() * t.Tensor.DType.Size()); b >= threshold {
			n += alignUp(b)
		}
	}
	return n
}

// ShmBytesOf is ShmBytes of a decoded message's tensors.
func ShmBytesOf(threshold int64, m map[string]*sdk.Tensor) int64 {
	var n int64
	for _, t := range m {
		if b := int64(t.Len() * t.DType.Size()); b >= threshold {
			n += alignUp(b)
		}
	}
	return n
}
