//go:build linux

package rpc

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/internal/pb"
	"github.com/ebmflow/ebmflow/internal/testplugins"
	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// staleGeneration places tensors like a lease but names a generation the
// segment does not have: the callee must refuse before running the call.
type staleGeneration struct{ l *wire.Lease }

func (s staleGeneration) Place(n int64) ([]byte, *pb.ShmRef) {
	b, ref := s.l.Place(n)
	if ref != nil {
		ref.Generation++
	}
	return b, ref
}

func bigInput() *sdk.Tensor {
	x := sdk.NewTensor(sdk.Float32, 100, 1, 32, 32)
	for i := range x.F32 {
		x.F32[i] = float32(i%13) * 0.1
	}
	return x
}

// checkGrad checks a Grad of the quadratic with a = 1, mu = 0: F = |x|^2/2
// per sample and dF/dx = x, exactly.
func checkGrad(t *testing.T, c *Client, x *sdk.Tensor) {
	t.Helper()
	f, g, err := c.Grad(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	per := x.Len() / x.Shape[0]
	for i, v := range x.F32 {
		if g.F32[i] != v {
			t.Fatalf("dF/dx[%d] = %v, want %v", i, g.F32[i], v)
		}
	}
	for n := range x.Shape[0] {
		var want float32
		for _, v := range x.F32[n*per : (n+1)*per] {
			want += v * v
		}
		if d := f.F32[n] - want/2; d > 1e-3 || d < -1e-3 {
			t.Fatalf("F[%d] = %v, want %v", n, f.F32[n], want/2)
		}
	}
}

func TestShmNegotiatedAndRefused(t *testing.T) {
	c := dial(t, testplugins.NewQuadratic())
	configure(t, c, map[string]any{"shape": []int{1, 32, 32}})
	x := bigInput()
	checkGrad(t, c, x) // offers an answer region; the server maps it and says so
	if !c.ShmActive() {
		t.Fatal("the server mapped the offered region but the client does not send handles")
	}
	checkGrad(t, c, x) // x by handle, answer by handle
	// Small tensors only (every tensor is below the threshold now): the
	// answer comes inline, then a plain inline call; back above it, the
	// next large answer is inline once, then offered room again.
	t.Setenv(wire.ShmMinEnv, "1048576")
	checkGrad(t, c, x)
	checkGrad(t, c, x)
	os.Unsetenv(wire.ShmMinEnv)
	checkGrad(t, c, x)
	checkGrad(t, c, x)
	if !c.ShmActive() {
		t.Fatal("shared memory off after a small call")
	}
	// A handle the server cannot use: refused before the call runs, and
	// repeated inline; the link stays inline.
	defer func(p func(*wire.Lease) wire.Placer) { shmPlacer = p }(shmPlacer)
	shmPlacer = func(l *wire.Lease) wire.Placer { return staleGeneration{l} }
	checkGrad(t, c, x)
	if c.ShmActive() || c.shm.peer.Load() != -1 {
		t.Fatal("shared memory still on after the server refused a handle")
	}
	checkGrad(t, c, x)
}

func TestShmDisabledByEnv(t *testing.T) {
	t.Setenv(wire.ShmEnv, "0")
	c := dial(t, testplugins.NewQuadratic())
	configure(t, c, map[string]any{"shape": []int{1, 32, 32}})
	for range 2 {
		checkGrad(t, c, bigInput())
	}
	if c.ShmActive() {
		t.Fatal("EBMFLOW_SHM=0 but the client sends handles")
	}
}

// TestShmThroughProxy: a brokered link forwards handles and the callee's
// refusal unchanged, so the caller's inline retry works through the host.
func TestShmThroughProxy(t *testing.T) {
	e := dial(t, testplugins.NewQuadratic())
	configure(t, e, map[string]any{"shape": []int{1, 32, 32}})
	sock := filepath.Join(t.TempDir(), "s")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(GRPCOptions(nil)...)
	RegisterProxy(srv, sdk.KindEnergy, e)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("unix://"+sock, append(DialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := NewClient(conn, nil)
	c.Stage = "energy"
	x := bigInput()
	checkGrad(t, c, x)
	checkGrad(t, c, x)
	if !c.ShmActive() {
		t.Fatal("no shared memory through the proxy")
	}
	// The refusal's status reaches the caller as the callee sent it.
	s, err := c.energy.Grad(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.Send(&pb.Frame{Chunk: &pb.TensorChunk{Start: true, Name: "x", Dtype: pb.DType_FLOAT32, Shape: []int64{1, 1, 1, 2}, ByteLen: 8,
		Shm: &pb.ShmRef{Pid: 1 << 30, Fd: 3, Generation: 1, Size: 1 << 20, Offset: 64, Length: 8}}})
	s.CloseSend()
	_, err = s.Recv()
	if st, _ := status.FromError(err); st.Code() != codes.FailedPrecondition || !strings.Contains(st.Message(), "no such process") {
		t.Fatalf("refusal through the proxy: %v", err)
	}
	defer func(p func(*wire.Lease) wire.Placer) { shmPlacer = p }(shmPlacer)
	shmPlacer = func(l *wire.Lease) wire.Placer { return staleGeneration{l} }
	checkGrad(t, c, x)
	if c.ShmActive() {
		t.Fatal("shared memory still on after a refusal through the proxy")
	}
}
