package rpc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ebmflow/ebmflow/internal/channel"
	"github.com/ebmflow/ebmflow/internal/pb"
	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Shared-memory channels (internal/channel, docs/channel.md). The host asks
// a plugin to serve a channel to one process: itself, or a stage linked to
// this one. The plugin listens; the caller dials and from then on every
// tensor call (and a data stage's Describe) goes through the channel, with
// the plugin's method table deciding what the caller may call. A plugin
// without OpenChannel, or EBMFLOW_SHM=0, keeps everything on gRPC frames.

// OpenChannel serves a channel to req.PeerPid. An empty PeerStage is the
// host, which may make every call; a linked stage may make its link's calls
// only.
func (s *baseServer) OpenChannel(ctx context.Context, req *pb.OpenChannelRequest) (*pb.OpenChannelResponse, error) {
	if !channel.Enabled() {
		return nil, status.Error(codes.Unimplemented, "shared-memory channels are off in this plugin (EBMFLOW_SHM=0 or not Linux)")
	}
	if req.PeerPid <= 0 {
		return nil, status.Errorf(codes.InvalidArgument, "open channel: bad peer pid %d", req.PeerPid)
	}
	link := req.PeerStage != ""
	log := sdk.Logger()
	ln, err := channel.Listen(channel.Options{
		Peer: int(req.PeerPid), Limit: s.limit, Handler: s.channelHandler(link, req.PeerStage),
		Borrow: func(m string) bool { return s.methods[m].borrow },
		Stream: func(m string) bool { return s.methods[m].stream != nil },
		Log:    func(msg string, err error) { log.Warn().Str("peer_stage", req.PeerStage).Err(err).Msg(msg) },
	})
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "open channel: %v", err)
	}
	return &pb.OpenChannelResponse{Channel: &pb.Channel{Socket: ln.Name, Pid: int32(os.Getpid())}}, nil
}

// channelHandler serves one channel's requests from the method table. A
// link may call only its kind's link methods; Update, SaveState and
// LoadState are refused with PERMISSION_DENIED, as through the host's
// proxy.
func (s *baseServer) channelHandler(link bool, peer string) channel.Handler {
	return func(ctx context.Context, req *channel.Request) (uint32, []byte, []wire.Named) {
		m, ok := s.methods[req.Method]
		if !ok {
			return channel.ErrorAnswer(status.Errorf(codes.Unimplemented, "unknown method %q", req.Method))
		}
		if link && !m.link {
			s.mu.Lock()
			stage := s.stage
			s.mu.Unlock()
			return channel.ErrorAnswer(status.Errorf(codes.PermissionDenied, "stage %q: %s is not available through a link (called by stage %q)", stage, m.name, peer))
		}
		if req.Body != nil {
			if err := m.stream(ctx, req.Meta, req.Body); err != nil {
				return channel.ErrorAnswer(s.errorf(m.name, err))
			}
			return 0, nil, nil
		}
		meta, ts, err := m.run(ctx, &wire.Message{Meta: req.Meta, Tensors: req.Tensors, Out: req.Out})
		if err != nil {
			return channel.ErrorAnswer(s.errorf(m.name, err))
		}
		var mb []byte
		if meta != nil {
			if mb, err = proto.Marshal(meta); err != nil {
				return channel.ErrorAnswer(s.errorf(m.name, fmt.Errorf("encode answer: %w", err)))
			}
		}
		return 0, mb, ts
	}
}

// dialChannel connects a link's client to the linked stage's channel.
func (s *baseServer) dialChannel(c *Client, ch *pb.Channel) error {
	caller, err := channel.Dial(ch.Socket, int(ch.Pid), c.Limit)
	if err != nil {
		return err
	}
	timeout := time.Duration(ch.TimeoutMs) * time.Millisecond
	c.Timeout = func() time.Duration { return timeout }
	c.SetChannel(caller)
	return nil
}

// SetChannel makes the client send its tensor calls through ch, each with
// the deadline Timeout gives.
func (c *Client) SetChannel(ch *channel.Caller) { c.ch = ch }

// CloseChannel closes the client's channel, if it has one.
func (c *Client) CloseChannel() {
	if c.ch != nil {
		c.ch.Close()
	}
}

// Channel reports whether the client's calls go through a channel.
func (c *Client) Channel() bool { return c.ch != nil && !c.ch.Dead() }

// OpenChannel asks the plugin to serve a channel to the process peerPid
// (stage peerStage, or "" for the host).
func (c *Client) OpenChannel(ctx context.Context, peerPid int, peerStage string) (*pb.Channel, error) {
	r, err := c.plugin.OpenChannel(ctx, &pb.OpenChannelRequest{PeerPid: int32(peerPid), PeerStage: peerStage})
	if err != nil {
		if st, ok := status.FromError(err); ok && st.Code() == codes.Unimplemented {
			return nil, fmt.Errorf("%s: %w", st.Message(), channel.ErrUnsupported)
		}
		return nil, c.fail("open channel", err)
	}
	if r.Channel == nil || r.Channel.Socket == "" {
		return nil, c.fail("open channel", errors.New("the plugin answered without a socket"))
	}
	return r.Channel, nil
}

// callChannel makes a tensor call through the channel. Its errors are gRPC
// statuses, as on the gRPC path: the callee's own status, UNAVAILABLE when
// its process ended, DEADLINE_EXCEEDED when the call's deadline passed.
func (c *Client) callChannel(ctx context.Context, method, full string, meta proto.Message, tensors []wire.Named, into map[string]*sdk.Tensor) (*wire.Message, error) {
	var mb []byte
	if meta != nil {
		var err error
		if mb, err = proto.Marshal(meta); err != nil {
			return nil, c.fail(method, err)
		}
	}
	a, err := c.channelCall(ctx, method, full, mb, tensors, nil, into)
	if err != nil {
		return nil, err
	}
	return &wire.Message{Meta: a.Meta, Tensors: a.Tensors}, nil
}

// callChannelTo makes a call without a request message or tensors whose
// answer's tensors go to sink, and returns the answer's message bytes.
func (c *Client) callChannelTo(ctx context.Context, method, full string, sink wire.Sink) ([]byte, error) {
	a, err := c.channelCall(ctx, method, full, nil, nil, sink, nil)
	if err != nil {
		return nil, err
	}
	return a.Meta, nil
}

// channelCall makes a call through the channel (to sink if set, else into
// the storage in into where it fits) and turns its failures into gRPC
// statuses.
func (c *Client) channelCall(ctx context.Context, method, full string, mb []byte, tensors []wire.Named, sink wire.Sink, into map[string]*sdk.Tensor) (*channel.Answer, error) {
	var limit time.Duration
	var deadline time.Time
	if c.Timeout != nil {
		if limit = c.Timeout(); limit > 0 {
			deadline = time.Now().Add(limit)
		}
	}
	var a *channel.Answer
	var err error
	if sink != nil {
		a, err = c.ch.CallTo(ctx, deadline, full, mb, tensors, sink)
	} else {
		a, err = c.ch.CallInto(ctx, deadline, full, mb, tensors, into)
	}
	if err != nil {
		var st *status.Status
		var cf *CallFailure
		switch {
		case errors.Is(err, channel.ErrPeerGone):
			st = status.New(codes.Unavailable, "the plugin's process ended during the call")
			cf = &CallFailure{Stage: c.Stage, Method: method, Caller: c.caller, Crashed: true}
		case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
			st = status.Newf(codes.DeadlineExceeded, "no answer within %s", limit)
			cf = &CallFailure{Stage: c.Stage, Method: method, Caller: c.caller, Timeout: limit}
		case errors.Is(err, context.DeadlineExceeded):
			st = status.New(codes.DeadlineExceeded, "the call passed its deadline")
		case errors.Is(err, context.Canceled):
			st = status.New(codes.Canceled, "the call was cancelled")
		default:
			st = status.Newf(codes.Internal, "channel: %v", err)
		}
		if cf != nil && c.caller != "" {
			// A link: the host learns which stage failed.
			if d, derr := st.WithDetails(cf.toPB()); derr == nil {
				st = d
			}
		}
		return nil, c.fail(method, st.Err())
	}
	if err := a.Err(); err != nil {
		return nil, c.fail(method, err)
	}
	return a, nil
}
