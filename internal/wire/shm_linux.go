//go:build linux

package wire

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/ebmflow/ebmflow/internal/pb"
	"golang.org/x/sys/unix"
)

const shmSupported = true

// A segment starts with a header: magic, generation, size. A callee checks
// it after mapping, so a reused pid or fd never passes for the segment the
// handle names.
const (
	shmMagic   = "ebmflow-shm-v1\x00\x00" // 16 bytes
	shmHeader  = 64
	shmName    = "ebmflow-shm"
	minSegment = 1 << 20
)

var bootID = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
})

type span struct{ off, end int64 }

// segment is one sealed memfd of the pool, mapped read/write.
type segment struct {
	fd    int
	gen   uint64
	mem   []byte
	spans []span // regions in use, sorted by offset
}

func (s *segment) size() int64 { return int64(len(s.mem)) }

// alloc finds room for n bytes (first fit) and marks it used.
func (s *segment) alloc(n int64) (int64, bool) {
	prev := int64(shmHeader)
	for i, u := range s.spans {
		if u.off-prev >= n {
			s.spans = append(s.spans, span{})
			copy(s.spans[i+1:], s.spans[i:])
			s.spans[i] = span{prev, prev + n}
			return prev, true
		}
		prev = u.end
	}
	if s.size()-prev >= n {
		s.spans = append(s.spans, span{prev, prev + n})
		return prev, true
	}
	return 0, false
}

func (s *segment) free(off int64) {
	i := sort.Search(len(s.spans), func(i int) bool { return s.spans[i].off >= off })
	if i < len(s.spans) && s.spans[i].off == off {
		s.spans = append(s.spans[:i], s.spans[i+1:]...)
	}
}

func (s *segment) close() {
	unix.Munmap(s.mem)
	unix.Close(s.fd)
	s.mem = nil
}

// Pool is a caller's shared memory: segments of sealed memfds from which
// each call leases its own region. Safe for concurrent use; concurrent
// leases never overlap.
type Pool struct {
	pid  int32
	boot string

	mu     sync.Mutex
	segs   []*segment
	closed bool
}

// NewPool returns a pool with one segment, or an error if this process
// cannot create shared memory.
func NewPool() (*Pool, error) {
	boot, err := bootID()
	if err != nil {
		return nil, fmt.Errorf("%w: boot id: %v", ErrShm, err)
	}
	p := &Pool{pid: int32(os.Getpid()), boot: boot}
	s, err := newSegment(minSegment)
	if err != nil {
		return nil, err
	}
	p.segs = []*segment{s}
	return p, nil
}

var defaultPool = sync.OnceValues(func() (*Pool, error) { return NewPool() })

// DefaultPool is the process's pool, created on first use.
func DefaultPool() (*Pool, error) { return defaultPool() }

func newSegment(size int64) (*segment, error) {
	fd, err := unix.MemfdCreate(shmName, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("%w: memfd_create: %v", ErrShm, err)
	}
	fail := func(what string, err error) (*segment, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("%w: %s: %v", ErrShm, what, err)
	}
	if err := unix.Ftruncate(fd, size); err != nil {
		return fail("ftruncate", err)
	}
	// Sealed at its size: a callee's mapping can never lose its pages
	// (no SIGBUS from a shrinking file).
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_SEAL); err != nil {
		return fail("seal", err)
	}
	mem, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fail("mmap", err)
	}
	var g [8]byte
	for binary.LittleEndian.Uint64(g[:]) == 0 {
		rand.Read(g[:])
	}
	s := &segment{fd: fd, gen: binary.LittleEndian.Uint64(g[:]), mem: mem}
	copy(mem, shmMagic)
	binary.LittleEndian.PutUint64(mem[16:], s.gen)
	binary.LittleEndian.PutUint64(mem[24:], uint64(size))
	return s, nil
}

// Lease reserves a region of req bytes for request tensors followed by
// reply bytes offered for the answer. A lease of no bytes still names a
// segment, so that the callee can prove it maps this pool.
func (p *Pool) Lease(req, reply int64) (*Lease, error) {
	if req < 0 || reply < 0 {
		return nil, fmt.Errorf("%w: negative lease", ErrShm)
	}
	req, reply = alignUp(req), alignUp(reply)
	n := req + reply
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, fmt.Errorf("%w: pool closed", ErrShm)
	}
	l := &Lease{p: p, req: req}
	if n == 0 {
		l.seg, l.off = p.segs[len(p.segs)-1], shmHeader
		return l, nil
	}
	for _, s := range p.segs {
		if off, ok := s.alloc(n); ok {
			l.seg, l.off, l.end, l.held = s, off, off+n, true
			return l, nil
		}
	}
	// Grow: a new segment, a power of two that holds the region. Smaller
	// segments close when their last region is released.
	size := int64(minSegment)
	for size < shmHeader+n {
		size *= 2
	}
	s, err := newSegment(size)
	if err != nil {
		return nil, err
	}
	off, _ := s.alloc(n)
	// Segments stay sorted by size: the largest last.
	i := sort.Search(len(p.segs), func(i int) bool { return p.segs[i].size() > size })
	p.segs = append(p.segs, nil)
	copy(p.segs[i+1:], p.segs[i:])
	p.segs[i] = s
	l.seg, l.off, l.end, l.held = s, off, off+n, true
	return l, nil
}

// release frees a lease's region; an empty segment smaller than the
// largest is closed (it was outgrown).
func (p *Pool) release(l *Lease) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || !l.held {
		return
	}
	l.held = false
	l.seg.free(l.off)
	if len(l.seg.spans) == 0 && l.seg.size() < p.segs[len(p.segs)-1].size() {
		for i, s := range p.segs {
			if s == l.seg {
				p.segs = append(p.segs[:i], p.segs[i+1:]...)
				s.close()
				break
			}
		}
	}
}

// Segments returns the sizes of the pool's segments and the regions in use.
func (p *Pool) Segments() (sizes []int64, inUse int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.segs {
		sizes = append(sizes, s.size())
		inUse += len(s.spans)
	}
	return sizes, inUse
}

// Close unmaps and closes every segment; later leases fail.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	for _, s := range p.segs {
		s.close()
	}
	p.segs = nil
}

// Lease is one call's region: request tensors from its start, the answer
// room after them.
type Lease struct {
	p        *Pool
	seg      *segment
	off, end int64 // [off, end): the region; the answer room starts at off+req
	req      int64
	next     int64 // request bytes placed so far
	held     bool
}

func (l *Lease) ref(off, n int64) *pb.ShmRef {
	return &pb.ShmRef{Pid: l.p.pid, Fd: int32(l.seg.fd), Generation: l.seg.gen, Size: l.seg.size(), Offset: off, Length: n}
}

// Place implements Placer over the request part of the lease.
func (l *Lease) Place(n int64) ([]byte, *pb.ShmRef) {
	if n <= 0 || l.next+alignUp(n) > l.req {
		return nil, nil
	}
	off := l.off + l.next
	l.next += alignUp(n)
	return l.seg.mem[off : off+n : off+n], l.ref(off, n)
}

// Reply is the answer room offered to the callee.
func (l *Lease) Reply() *pb.ShmRegion {
	start := l.off + l.req
	end := max(l.end, start)
	return &pb.ShmRegion{Segment: l.ref(start, end-start), BootId: l.p.boot}
}

// Resolve implements Resolver for the answer: a handle must lie in this
// lease's answer room.
func (l *Lease) Resolve(ref *pb.ShmRef, read func([]byte)) error {
	start := l.off + l.req
	switch {
	case ref.Pid != l.p.pid || ref.Fd != int32(l.seg.fd) || ref.Generation != l.seg.gen || ref.Size != l.seg.size():
		return fmt.Errorf("%w: answer handle (pid %d, fd %d, generation %x) is not the offered segment (pid %d, fd %d, generation %x)",
			ErrShm, ref.Pid, ref.Fd, ref.Generation, l.p.pid, l.seg.fd, l.seg.gen)
	case ref.Offset < start || ref.Length < 0 || ref.Offset > l.end || ref.Length > l.end-ref.Offset:
		return fmt.Errorf("%w: answer handle [%d, +%d) outside the offered region [%d, %d)", ErrShm, ref.Offset, ref.Length, start, l.end)
	}
	read(l.seg.mem[ref.Offset : ref.Offset+ref.Length])
	return nil
}

// Release returns the region to the pool: the call is over and its answer
// copied out.
func (l *Lease) Release() { l.p.release(l) }

// Drop abandons the region without reusing it: the call ended abnormally
// and the callee may still write to it. The space is lost until the pool
// closes.
func (l *Lease) Drop() { l.held = false }

// Mapper maps callers' segments for a callee: each (pid, fd, generation)
// once, at most max kept unused (least recently used first out).
type Mapper struct {
	max int

	mu     sync.Mutex
	m      map[mapKey]*mapping
	tick   uint64
	closed bool
}

type mapKey struct {
	pid, fd int32
	gen     uint64
}

type mapping struct {
	mem  []byte
	refs int
	used uint64
}

// NewMapper returns a mapper keeping at most max unused mappings.
func NewMapper(max int) *Mapper {
	return &Mapper{max: max, m: map[mapKey]*mapping{}}
}

var defaultMapper = sync.OnceValue(func() *Mapper { return NewMapper(16) })

// DefaultMapper is the process's mapper.
func DefaultMapper() *Mapper { return defaultMapper() }

func (m *Mapper) acquire(ref *pb.ShmRef) (*mapping, error) {
	if ref.Pid <= 0 || ref.Fd < 0 || ref.Generation == 0 || ref.Size < shmHeader {
		return nil, fmt.Errorf("%w: bad handle (pid %d, fd %d, generation %x, size %d)", ErrShm, ref.Pid, ref.Fd, ref.Generation, ref.Size)
	}
	k := mapKey{ref.Pid, ref.Fd, ref.Generation}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, fmt.Errorf("%w: mapper closed", ErrShm)
	}
	if mp := m.m[k]; mp != nil {
		mp.refs++
		m.tick++
		mp.used = m.tick
		m.mu.Unlock()
		if int64(len(mp.mem)) != ref.Size {
			m.release(mp)
			return nil, fmt.Errorf("%w: segment (pid %d, fd %d) is %d bytes, the handle says %d", ErrShm, ref.Pid, ref.Fd, len(mp.mem), ref.Size)
		}
		return mp, nil
	}
	m.mu.Unlock()
	mem, err := mapSegment(ref)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		unix.Munmap(mem)
		return nil, fmt.Errorf("%w: mapper closed", ErrShm)
	}
	if mp := m.m[k]; mp != nil { // mapped meanwhile by another call
		unix.Munmap(mem)
		mp.refs++
		return mp, nil
	}
	m.tick++
	mp := &mapping{mem: mem, refs: 1, used: m.tick}
	// An fd of the same process now holds another segment: the old one
	// is gone from the caller.
	for ok, old := range m.m {
		if ok.pid == k.pid && ok.fd == k.fd && old.refs == 0 {
			unix.Munmap(old.mem)
			delete(m.m, ok)
		}
	}
	m.m[k] = mp
	m.evict()
	return mp, nil
}

// evict unmaps the least recently used unused mappings beyond max.
func (m *Mapper) evict() {
	for len(m.m) > m.max {
		var victim mapKey
		var oldest *mapping
		for k, mp := range m.m {
			if mp.refs == 0 && (oldest == nil || mp.used < oldest.used) {
				victim, oldest = k, mp
			}
		}
		if oldest == nil {
			return
		}
		unix.Munmap(oldest.mem)
		delete(m.m, victim)
	}
}

func (m *Mapper) release(mp *mapping) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mp.refs--
	if m.closed && mp.refs == 0 {
		unix.Munmap(mp.mem)
		return
	}
	m.evict()
}

// mapSegment opens the caller's memfd through /proc and checks that it is
// the sealed segment of the size and generation the handle names.
func mapSegment(ref *pb.ShmRef) ([]byte, error) {
	path := "/proc/" + strconv.Itoa(int(ref.Pid)) + "/fd/" + strconv.Itoa(int(ref.Fd))
	where := fmt.Sprintf("segment of pid %d, fd %d", ref.Pid, ref.Fd)
	target, err := os.Readlink(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s: no such process or descriptor (another host or pid namespace?)", ErrShm, where)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrShm, where, err)
	}
	if !strings.HasPrefix(target, "/memfd:"+shmName) {
		return nil, fmt.Errorf("%w: %s is %q, not an ebmflow segment", ErrShm, where, target)
	}
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: open: %v", ErrShm, where, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("%w: %s: fstat: %v", ErrShm, where, err)
	}
	if st.Size != ref.Size {
		return nil, fmt.Errorf("%w: %s is %d bytes, the handle says %d", ErrShm, where, st.Size, ref.Size)
	}
	seals, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0)
	if err != nil || seals&unix.F_SEAL_SHRINK == 0 {
		return nil, fmt.Errorf("%w: %s is not sealed against shrinking", ErrShm, where)
	}
	mem, err := unix.Mmap(fd, 0, int(st.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: mmap: %v", ErrShm, where, err)
	}
	if !bytes.Equal(mem[:16], []byte(shmMagic)) || binary.LittleEndian.Uint64(mem[16:]) != ref.Generation || int64(binary.LittleEndian.Uint64(mem[24:])) != ref.Size {
		unix.Munmap(mem)
		return nil, fmt.Errorf("%w: %s: header does not match generation %x (stale handle or another process's file)", ErrShm, where, ref.Generation)
	}
	return mem, nil
}

// checkRange checks [off, off+n) against a mapping past its header.
func checkRange(ref *pb.ShmRef, size int64) error {
	if ref.Offset < shmHeader || ref.Length < 0 || ref.Offset > size || ref.Length > size-ref.Offset {
		return fmt.Errorf("%w: handle [%d, +%d) outside the %d-byte segment of pid %d, fd %d", ErrShm, ref.Offset, ref.Length, size, ref.Pid, ref.Fd)
	}
	return nil
}

// Resolve implements Resolver: it maps (or reuses the mapping of) the
// segment the handle names, checks the range and passes the bytes to read.
func (m *Mapper) Resolve(ref *pb.ShmRef, read func([]byte)) error {
	mp, err := m.acquire(ref)
	if err != nil {
		return err
	}
	defer m.release(mp)
	if err := checkRange(ref, int64(len(mp.mem))); err != nil {
		return err
	}
	read(mp.mem[ref.Offset : ref.Offset+ref.Length])
	return nil
}

// Area maps the region a caller offered for the answer. It must be closed.
func (m *Mapper) Area(r *pb.ShmRegion) (*Area, error) {
	boot, err := bootID()
	if err != nil {
		return nil, fmt.Errorf("%w: boot id: %v", ErrShm, err)
	}
	if r.GetSegment() == nil || r.BootId != boot {
		return nil, fmt.Errorf("%w: the caller runs on another host or boot (boot id %q, ours %q)", ErrShm, r.GetBootId(), boot)
	}
	ref := r.Segment
	mp, err := m.acquire(ref)
	if err != nil {
		return nil, err
	}
	if err := checkRange(ref, int64(len(mp.mem))); err != nil {
		m.release(mp)
		return nil, err
	}
	return &Area{m: m, mp: mp, ref: ref, next: ref.Offset}, nil
}

// Close unmaps every mapping not in use now, and the others when released.
func (m *Mapper) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	for k, mp := range m.m {
		if mp.refs == 0 {
			unix.Munmap(mp.mem)
		}
		delete(m.m, k)
	}
}

// Mappings returns how many segments are mapped.
func (m *Mapper) Mappings() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.m)
}

// Area is a caller's answer room, mapped by the callee; it places answer
// tensors one after the other.
type Area struct {
	m    *Mapper
	mp   *mapping
	ref  *pb.ShmRef
	next int64
}

// Place implements Placer.
func (a *Area) Place(n int64) ([]byte, *pb.ShmRef) {
	end := a.ref.Offset + a.ref.Length
	if a.mp == nil || n <= 0 || a.next > end || n > end-a.next {
		return nil, nil
	}
	off := a.next
	a.next += alignUp(n)
	r := &pb.ShmRef{Pid: a.ref.Pid, Fd: a.ref.Fd, Generation: a.ref.Generation, Size: a.ref.Size, Offset: off, Length: n}
	return a.mp.mem[off : off+n : off+n], r
}

// Close releases the mapping.
func (a *Area) Close() {
	if a != nil && a.mp != nil {
		a.m.release(a.mp)
		a.mp = nil
	}
}
