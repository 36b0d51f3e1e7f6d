package channel

import (
	"errors"
	"os"
	"strconv"
	"time"
)

// Segment layout (little-endian), the contract docs/channel.md describes.
// Every control word sits on its own 64-byte line, so that the two
// processes' writes do not share a cache line.
const (
	magic = "ebmflow-chan-v1\x00" // 16 bytes at offset 0

	offSize    = 16 // u64: segment size
	offReqOff  = 24 // u64: request area offset
	offReqLen  = 32 // u64: request area size
	offAnsOff  = 40 // u64: answer area offset
	offAnsLen  = 48 // u64: answer area size
	offLaneID  = 56 // u32: lane id
	offReqPipe = 64 // request pipe: 4 words, 64 bytes apart
	offAnsPipe = 320
	offClosed  = 576 // u32: 1 once the caller abandoned the lane

	// Pipe words, relative to the pipe's offset.
	pipePosted      = 0   // u32: parts the writer has posted
	pipeTaken       = 64  // u32: parts the reader has consumed
	pipeReaderWaits = 128 // u32: 1 while the reader sleeps (or is about to) on posted
	pipeWriterWaits = 192 // u32: 1 while the writer sleeps on taken

	headerSize = 4096 // areas start here, page aligned

	// partHeader precedes every part in an area: u32 call id, u32 flags,
	// u64 payload length.
	partHeader = 16
	flagLast   = 1

	// minArea and maxArea bound one area; larger messages use parts.
	minArea = 64 << 10
	maxArea = 64 << 20
)

// Record limits, checked before anything is allocated.
const (
	maxMethod  = 256
	maxName    = 256
	maxMeta    = 16 << 20
	maxDims    = 8
	maxTensors = 64
)

// Errors.
var (
	// ErrUnsupported: this system has no channel (not Linux, or
	// EBMFLOW_SHM=0); calls go as gRPC frames.
	ErrUnsupported = errors.New("shared-memory channel not available")
	// ErrPeerGone: the other process ended (or closed the channel) while
	// a call was waiting on it.
	ErrPeerGone = errors.New("the peer process is gone")
	// ErrProtocol: the peer broke the channel's protocol; the lane is
	// dropped.
	ErrProtocol = errors.New("channel protocol violation")
	// ErrClosed: the channel was closed by this side.
	ErrClosed = errors.New("channel closed")
)

// Env disables the channel when set to 0 (as it disabled the shared-memory
// tensors before it).
const Env = "EBMFLOW_SHM"

// SpinEnv sets how long a waiting side spins before it sleeps on the futex,
// in microseconds (default DefaultSpin).
const SpinEnv = "EBMFLOW_CHAN_SPIN_US"

// DefaultSpin is the spin before sleeping: a waiting process uses no CPU
// after it. A toy Langevin step's gradient answers within it, so neither
// side of a toy run sleeps between steps; a ConvNet's (tens of ms) is
// waited for asleep, at a cost of this spin per call (about 0.25%).
const DefaultSpin = 100 * time.Microsecond

// Enabled reports whether this process uses channels: Linux, little-endian,
// and EBMFLOW_SHM is not 0.
func Enabled() bool { return supported && os.Getenv(Env) != "0" }

func spinFor() time.Duration {
	if v := os.Getenv(SpinEnv); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return time.Duration(n) * time.Microsecond
		}
	}
	return DefaultSpin
}

// areaFor rounds a wanted area size to a power of two in [minArea, maxArea].
func areaFor(n int64) int64 {
	a := int64(minArea)
	for a < n+partHeader && a < maxArea {
		a *= 2
	}
	return a
}
