//go:build linux

package wire

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ebmflow/ebmflow/internal/pb"
	"github.com/ebmflow/ebmflow/sdk"
	"google.golang.org/protobuf/proto"
)

func newPool(t *testing.T) *Pool {
	t.Helper()
	p, err := NewPool()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func newMapper(t *testing.T) *Mapper {
	t.Helper()
	m := NewMapper(4)
	t.Cleanup(m.Close)
	return m
}

func TestPoolConcurrentLeasesDisjoint(t *testing.T) {
	p := newPool(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range 200 {
				req, reply := r.Int64N(300<<10), r.Int64N(300<<10)
				l, err := p.Lease(req, reply)
				if err != nil {
					errs <- err
					return
				}
				mem := l.seg.mem[l.off:l.end]
				for i := range mem {
					mem[i] = byte(g + 1)
				}
				for i := range mem {
					if mem[i] != byte(g+1) {
						errs <- fmt.Errorf("goroutine %d: byte %d of its region overwritten by %d", g, i, mem[i]-1)
						return
					}
				}
				l.Release()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if _, inUse := p.Segments(); inUse != 0 {
		t.Fatalf("%d regions still in use after every lease was released", inUse)
	}
}

func TestPoolGrowsAndReleases(t *testing.T) {
	p := newPool(t)
	a, err := p.Lease(400<<10, 400<<10)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Lease(400<<10, 400<<10) // does not fit beside a in 1 MiB
	if err != nil {
		t.Fatal(err)
	}
	if a.seg == b.seg {
		t.Fatal("two 800 KiB leases share a 1 MiB segment")
	}
	big, err := p.Lease(3<<20, 0) // grows: a 4 MiB segment
	if err != nil {
		t.Fatal(err)
	}
	sizes, inUse := p.Segments()
	if inUse != 3 || sizes[len(sizes)-1] != 4<<20 {
		t.Fatalf("segments %v, %d in use; want the largest of 4 MiB and 3 in use", sizes, inUse)
	}
	a.Release()
	b.Release()
	// The outgrown 1 MiB segments close once empty.
	if sizes, inUse = p.Segments(); len(sizes) != 1 || inUse != 1 {
		t.Fatalf("after release: segments %v, %d in use; want only the 4 MiB one", sizes, inUse)
	}
	// A dropped region is never handed out again.
	big.Drop()
	c, err := p.Lease(2<<20, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.seg == big.seg && c.off < big.end && big.off < c.end {
		t.Fatal("a dropped region was reused")
	}
	c.Release()
	// Leases of nothing still name a segment (the callee's proof of mapping).
	z, err := p.Lease(0, 0)
	if err != nil || z.Reply().GetSegment().GetGeneration() == 0 {
		t.Fatalf("empty lease: %v, %v", z, err)
	}
	z.Release()
}

// TestShmRoundTrip sends a request by handle and its answer into the
// offered region, resolving through /proc like another process would.
func TestShmRoundTrip(t *testing.T) {
	p, m := newPool(t), newMapper(t)
	x := sdk.NewTensor(sdk.Float32, 100, 1, 32, 32)
	for i := range x.F32 {
		x.F32[i] = float32(i) * 0.25
	}
	small := sdk.FromFloat64([]float64{1, 2}, 2)
	tensors := []Named{{"x", x}, {"small", small}}
	l, err := p.Lease(ShmBytes(DefaultShmThreshold, tensors...), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	var req pipe
	if err := SendWith(&req, SendOptions{Placer: l, Reply: l.Reply(), Threshold: DefaultShmThreshold}, &pb.UpdateRequest{T: 3}, tensors...); err != nil {
		t.Fatal(err)
	}
	if len(req.frames) != 2 || req.frames[0].Chunk.Shm == nil || len(req.frames[0].Chunk.Data) != 0 || req.frames[1].Chunk.Shm != nil {
		t.Fatalf("request frames: %v", req.frames)
	}
	got, err := RecvWith(&req, 0, m)
	if err != nil {
		t.Fatal(err)
	}
	if got.ShmTensors != 1 || got.Reply == nil || !slices.Equal(got.Tensors["x"].F32, x.F32) || got.Tensors["small"].F64[1] != 2 {
		t.Fatalf("request decoded as %+v", got)
	}
	// The callee's copy is its own: changing the segment does not change it.
	l.seg.mem[req.frames[0].Chunk.Shm.Offset] ^= 0xff
	if got.Tensors["x"].F32[0] != 0 {
		t.Fatal("decoded tensor aliases the segment")
	}
	area, err := m.Area(got.Reply)
	if err != nil {
		t.Fatal(err)
	}
	var ans pipe
	err = SendWith(&ans, SendOptions{Placer: area, ShmOK: true}, nil, Named{"f", small}, Named{"dfdx", x})
	area.Close()
	if err != nil {
		t.Fatal(err)
	}
	back, err := RecvWith(&ans, 0, l)
	if err != nil {
		t.Fatal(err)
	}
	if !back.ShmOK || back.ShmTensors != 1 || !slices.Equal(back.Tensors["dfdx"].F32, x.F32) {
		t.Fatalf("answer decoded as %+v", back)
	}
	// An answer too large for the offered room goes inline.
	z, _ := p.Lease(0, 0)
	defer z.Release()
	area, err = m.Area(z.Reply())
	if err != nil {
		t.Fatal(err)
	}
	var inline pipe
	if err := SendWith(&inline, SendOptions{Placer: area, ShmOK: true}, nil, Named{"dfdx", x}); err != nil {
		t.Fatal(err)
	}
	area.Close()
	if back, err := RecvWith(&inline, 0, z); err != nil || back.ShmTensors != 0 || !slices.Equal(back.Tensors["dfdx"].F32, x.F32) {
		t.Fatalf("inline answer: %v, %v", back, err)
	}
}

// noResolve fails the test if the decoder resolves a handle it should
// have refused on its header alone.
type noResolve struct{ t *testing.T }

func (n noResolve) Resolve(*pb.ShmRef, func([]byte)) error {
	n.t.Fatal("handle resolved before its header was checked")
	return nil
}

func TestShmHandlesRefused(t *testing.T) {
	p, m := newPool(t), newMapper(t)
	l, err := p.Lease(1<<16, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	_, good := l.Place(1 << 16)
	with := func(f func(r *pb.ShmRef)) *pb.ShmRef {
		r := proto.Clone(good).(*pb.ShmRef)
		f(r)
		return r
	}
	shm := func(r *pb.ShmRef, dt pb.DType, shape []int64, n int64) *pb.Frame {
		return &pb.Frame{Chunk: &pb.TensorChunk{Start: true, Name: "x", Dtype: dt, Shape: shape, ByteLen: n, Shm: r}}
	}
	f32 := pb.DType_FLOAT32
	cases := []struct {
		name  string
		frame *pb.Frame
		res   Resolver
		want  string
	}{
		{"offset past the end", shm(with(func(r *pb.ShmRef) { r.Offset = r.Size }), f32, []int64{1 << 14}, 1<<16), m, "outside the"},
		{"length past the end", shm(with(func(r *pb.ShmRef) { r.Offset = r.Size - 4 }), f32, []int64{1 << 14}, 1<<16), m, "outside the"},
		{"offset in the header", shm(with(func(r *pb.ShmRef) { r.Offset = 8 }), f32, []int64{1 << 14}, 1<<16), m, "outside the"},
		{"wrong generation", shm(with(func(r *pb.ShmRef) { r.Generation++ }), f32, []int64{1 << 14}, 1<<16), m, "header does not match generation"},
		{"wrong size", shm(with(func(r *pb.ShmRef) { r.Size *= 2 }), f32, []int64{1 << 14}, 1<<16), m, "the handle says"},
		{"no such process", shm(with(func(r *pb.ShmRef) { r.Pid = 1 << 30 }), f32, []int64{1 << 14}, 1<<16), m, "no such process or descriptor"},
		{"not a segment", shm(with(func(r *pb.ShmRef) { r.Pid = int32(os.Getpid()); r.Fd = 0 }), f32, []int64{1 << 14}, 1<<16), m, "not an ebmflow segment"},
		{"zero generation", shm(with(func(r *pb.ShmRef) { r.Generation = 0 }), f32, []int64{1 << 14}, 1<<16), m, "bad handle"},
		{"byte_len vs shape", shm(good, f32, []int64{1 << 13}, 1<<16), noResolve{t}, "its shape needs"},
		{"bad dtype", shm(good, pb.DType_DTYPE_UNSPECIFIED, []int64{1 << 14}, 1<<16), noResolve{t}, "unknown dtype"},
		{"handle length vs byte_len", shm(with(func(r *pb.ShmRef) { r.Length = 4 }), f32, []int64{1 << 14}, 1<<16), noResolve{t}, "handle of 4 bytes"},
		{"above the limit", shm(good, f32, []int64{1 << 20}, 1<<22), noResolve{t}, "exceeds the limit"},
		{"handle and data", &pb.Frame{Chunk: &pb.TensorChunk{Start: true, Name: "x", Dtype: f32, Shape: []int64{1}, ByteLen: 4, Data: make([]byte, 4), Shm: good}}, noResolve{t}, "both"},
		{"not negotiated", shm(good, f32, []int64{1 << 14}, 1<<16), nil, "did not offer"},
		{"handle on a data chunk", &pb.Frame{Chunk: &pb.TensorChunk{Data: []byte{1}, Shm: good}}, noResolve{t}, "starts no tensor"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Decoder{Limit: 1 << 20, Shm: c.res}
			err := d.Add(c.frame)
			if err == nil {
				_, err = d.Finish()
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
		})
	}
	// Answer handles must lie in the lease's own answer room.
	r, _ := p.Lease(0, 1<<16)
	defer r.Release()
	for name, ref := range map[string]*pb.ShmRef{
		"request part":  good,
		"past the room": with(func(x *pb.ShmRef) { x.Offset = r.Reply().Segment.Offset + 8 }),
	} {
		if err := r.Resolve(ref, func([]byte) {}); !errors.Is(err, ErrShm) {
			t.Errorf("%s: err = %v, want ErrShm", name, err)
		}
	}
	// A region offered by another boot is not mapped.
	off := r.Reply()
	off.BootId = "00000000-0000-0000-0000-000000000000"
	if _, err := m.Area(off); err == nil || !strings.Contains(err.Error(), "another host") {
		t.Fatalf("foreign boot id: err = %v", err)
	}
}

func TestMapperCachesAndEvicts(t *testing.T) {
	m := newMapper(t) // keeps 4
	var pools []*Pool
	for range 6 {
		p := newPool(t)
		pools = append(pools, p)
		l, _ := p.Lease(0, 64)
		a, err := m.Area(l.Reply())
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
		l.Release()
	}
	if n := m.Mappings(); n != 4 {
		t.Fatalf("%d mappings kept, want 4", n)
	}
	// A closed segment's mapping is unaffected by the caller closing it:
	// the mapper holds its own.
	pools[5].Close()
	m.Close()
	if n := m.Mappings(); n != 0 {
		t.Fatalf("%d mappings after Close", n)
	}
}
