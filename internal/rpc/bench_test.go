package rpc

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ebmflow/ebmflow/internal/channel"
	"github.com/ebmflow/ebmflow/internal/pb"
	"github.com/ebmflow/ebmflow/internal/testplugins"
	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// BenchmarkGradCall measures one Grad call of the quadratic test energy
// served in this process (no second process): through a shared-memory
// channel between two goroutines, or with EBMFLOW_SHM=0 over go-plugin's
// in-process gRPC test connection (no TLS). It is the CPU cost and the
// allocations of the call path without the scheduling of two processes.
// info is a unary call carrying no tensor on the same connection.
func BenchmarkGradCall(b *testing.B) {
	ctx := context.Background()
	for _, shape := range [][]int{{100, 2}, {100, 1, 32, 32}} {
		b.Run(sdk.FormatShape(shape), func(b *testing.B) {
			c := dial(b, testplugins.NewQuadratic())
			configure(b, c, map[string]any{"shape": shape[1:]})
			if channel.Enabled() {
				// The same call through a channel to this process, with
				// the link timeout a sampler's calls carry.
				ch, err := c.OpenChannel(ctx, os.Getpid(), "")
				if err != nil {
					b.Fatal(err)
				}
				caller, err := channel.Dial(ch.Socket, int(ch.Pid), c.Limit)
				if err != nil {
					b.Fatal(err)
				}
				c.SetChannel(caller)
				c.Timeout = func() time.Duration { return time.Minute }
				b.Cleanup(c.CloseChannel)
			}
			x := sdk.NewTensor(sdk.Float32, shape...)
			b.SetBytes(int64(4 * (2*x.Len() + shape[0])))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := c.Grad(ctx, x); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("info", func(b *testing.B) {
		c := dial(b, testplugins.NewQuadratic())
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Info(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkStreamReuse bounds what a long-lived stream per link would save:
// one request frame and one answer frame of a 100x2 float32 tensor over a
// gRPC connection on a Unix socket (same server and client options as the
// plugins, no TLS), either on a fresh stream per exchange as every tensor
// call does today (perCall) or on one stream kept open (reused).
func BenchmarkStreamReuse(b *testing.B) {
	sock := filepath.Join(b.TempDir(), "s")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		b.Fatal(err)
	}
	srv := grpc.NewServer(GRPCOptions(nil)...)
	srv.RegisterService(&echoDesc, nil)
	go srv.Serve(lis)
	defer srv.Stop()
	conn, err := grpc.NewClient("unix://"+sock, append(DialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	var frames collect
	if err := wire.Send(&frames, nil, wire.Named{Name: "x", Tensor: sdk.NewTensor(sdk.Float32, 100, 2)}); err != nil {
		b.Fatal(err)
	}
	req := frames[0]
	desc := &echoDesc.Streams[0]
	ctx := context.Background()
	b.Run("perCall", func(b *testing.B) {
		for b.Loop() {
			s, err := conn.NewStream(ctx, desc, "/ebmflow.bench.Echo/Echo")
			if err != nil {
				b.Fatal(err)
			}
			if err := s.SendMsg(req); err != nil {
				b.Fatal(err)
			}
			if err := s.CloseSend(); err != nil {
				b.Fatal(err)
			}
			var f pb.Frame
			if err := s.RecvMsg(&f); err != nil {
				b.Fatal(err)
			}
			if err := s.RecvMsg(&f); err != io.EOF {
				b.Fatal(err)
			}
		}
	})
	b.Run("reused", func(b *testing.B) {
		s, err := conn.NewStream(ctx, desc, "/ebmflow.bench.Echo/Echo")
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if err := s.SendMsg(req); err != nil {
				b.Fatal(err)
			}
			var f pb.Frame
			if err := s.RecvMsg(&f); err != nil {
				b.Fatal(err)
			}
		}
		s.CloseSend()
	})
}

// echoDesc is a service answering each frame with itself until the client
// closes its side.
var echoDesc = grpc.ServiceDesc{
	ServiceName: "ebmflow.bench.Echo",
	HandlerType: (*any)(nil),
	Streams: []grpc.StreamDesc{{
		StreamName: "Echo", ServerStreams: true, ClientStreams: true,
		Handler: func(_ any, s grpc.ServerStream) error {
			for {
				var f pb.Frame
				if err := s.RecvMsg(&f); err == io.EOF {
					return nil
				} else if err != nil {
					return err
				}
				if err := s.SendMsg(&f); err != nil {
					return err
				}
			}
		},
	}},
}

// collect is a wire.Sender keeping the frames.
type collect []*pb.Frame

func (c *collect) Send(f *pb.Frame) error {
	*c = append(*c, f)
	return nil
}
