//go:build linux

package channel

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync/atomic"

	"github.com/ebmflow/ebmflow/internal/wire"
	"golang.org/x/sys/unix"
)

var supported = wire.HostLittleEndian()

// lane is one mapped segment: a request pipe and an answer pipe. A lane
// carries one call at a time.
type lane struct {
	id       uint32
	mem      []byte
	req, ans pipe
	closed   *atomic.Uint32
	call     uint32 // the caller's last call id

	w     partWriter
	r     partReader
	arena arena   // the callee's storage for borrowed request tensors
	names names   // names seen in this lane's records
	out   outputs // the callee's storage for answer tensors
	lay   layout  // the callee's dry run of an answer's layout (encodeAnswerFrom)

	// This side's waits: for the peer's parts (an answer, or the next
	// request) and for the peer to take ours.
	readPace, writePace pace
}

func (l *lane) reqLen() int64 { return int64(len(l.req.area)) }
func (l *lane) ansLen() int64 { return int64(len(l.ans.area)) }

func laneOver(mem []byte, id uint32, reqOff, reqLen, ansOff, ansLen int64) *lane {
	l := &lane{id: id, mem: mem, closed: word(mem, offClosed)}
	l.req = newPipe(mem, offReqPipe, mem[reqOff:reqOff+reqLen:reqOff+reqLen])
	l.ans = newPipe(mem, offAnsPipe, mem[ansOff:ansOff+ansLen:ansOff+ansLen])
	return l
}

// createLane makes a sealed memfd of a header and the two areas, maps it
// and writes the header. The caller sends fd to the peer and closes it.
func createLane(id uint32, reqLen, ansLen int64) (*lane, int, error) {
	size := headerSize + reqLen + ansLen
	fd, err := unix.MemfdCreate("ebmflow-chan", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, -1, fmt.Errorf("memfd_create: %w", err)
	}
	fail := func(what string, err error) (*lane, int, error) {
		unix.Close(fd)
		return nil, -1, fmt.Errorf("%s: %w", what, err)
	}
	if err := unix.Ftruncate(fd, size); err != nil {
		return fail("ftruncate", err)
	}
	// Sealed at its size: neither side's mapping can lose its pages.
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_SEAL); err != nil {
		return fail("seal", err)
	}
	mem, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fail("mmap", err)
	}
	copy(mem, magic)
	binary.LittleEndian.PutUint64(mem[offSize:], uint64(size))
	binary.LittleEndian.PutUint64(mem[offReqOff:], headerSize)
	binary.LittleEndian.PutUint64(mem[offReqLen:], uint64(reqLen))
	binary.LittleEndian.PutUint64(mem[offAnsOff:], uint64(headerSize+reqLen))
	binary.LittleEndian.PutUint64(mem[offAnsLen:], uint64(ansLen))
	binary.LittleEndian.PutUint32(mem[offLaneID:], id)
	return laneOver(mem, id, headerSize, reqLen, headerSize+reqLen, ansLen), fd, nil
}

// mapLane maps a segment received from a caller after checking that it is
// a sealed memfd whose header describes areas inside it.
func mapLane(fd int, id uint32) (*lane, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("fstat: %w", err)
	}
	size := st.Size
	if size < headerSize+2*minArea || size > headerSize+2*maxArea {
		return nil, fmt.Errorf("%w: segment of %d bytes", ErrProtocol, size)
	}
	seals, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: not a memfd: %v", ErrProtocol, err)
	}
	if seals&(unix.F_SEAL_SHRINK|unix.F_SEAL_GROW) != unix.F_SEAL_SHRINK|unix.F_SEAL_GROW {
		return nil, fmt.Errorf("%w: segment not sealed against resizing", ErrProtocol)
	}
	mem, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap: %w", err)
	}
	u := func(off int) int64 { return int64(binary.LittleEndian.Uint64(mem[off:])) }
	reqOff, reqLen, ansOff, ansLen := u(offReqOff), u(offReqLen), u(offAnsOff), u(offAnsLen)
	switch {
	case !bytes.Equal(mem[:len(magic)], []byte(magic)):
		err = fmt.Errorf("%w: bad magic", ErrProtocol)
	case u(offSize) != size:
		err = fmt.Errorf("%w: header says %d bytes, the segment has %d", ErrProtocol, u(offSize), size)
	case binary.LittleEndian.Uint32(mem[offLaneID:]) != id:
		err = fmt.Errorf("%w: lane id %d, announced %d", ErrProtocol, binary.LittleEndian.Uint32(mem[offLaneID:]), id)
	case reqOff != headerSize || reqLen < minArea || reqLen > maxArea || ansOff != reqOff+reqLen ||
		ansLen < minArea || ansLen > maxArea || ansOff+ansLen != size:
		err = fmt.Errorf("%w: areas [%d,+%d) and [%d,+%d) do not tile a %d-byte segment", ErrProtocol, reqOff, reqLen, ansOff, ansLen, size)
	}
	if err != nil {
		unix.Munmap(mem)
		return nil, err
	}
	return laneOver(mem, id, reqOff, reqLen, ansOff, ansLen), nil
}

// unmap releases this side's mapping.
func (l *lane) unmap() {
	if l.mem != nil {
		unix.Munmap(l.mem)
		l.mem = nil
	}
}
