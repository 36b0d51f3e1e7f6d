package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ebmflow/ebmflow/internal/channel"
	"github.com/ebmflow/ebmflow/internal/pb"
	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/hashicorp/go-plugin"
	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Client calls a plugin's services. The host holds one per stage; a plugin
// holds one per linked stage. It implements sdk.EnergyLink and sdk.DataLink
// and the other kinds' calls.
type Client struct {
	// Stage names the stage served at the other end, for errors.
	Stage string
	// Limit is the largest tensor accepted from the other end, in bytes.
	Limit int64
	// Wrap, when set, rewrites every failed call's error; the host uses it
	// to report crashes and deadlines with the plugin's name and stderr.
	Wrap func(method string, err error) error
	// Log receives the client's debug lines; sdk.Logger() if nil.
	Log *zerolog.Logger
	// ObserveTensors is set by Configure when the stage, a diagnostics
	// stage, asked for each record's positives and negatives.
	ObserveTensors bool
	// Cost is what the stage declared at Configure (sdk.Config.DeclareCost),
	// or nil.
	Cost *sdk.Cost

	// Pid is the plugin's process id when the client is the host's: the
	// stages it links to are then asked for a channel to that process.
	Pid int
	// Timeout, if set, gives the deadline of each call through a channel
	// (0: none beyond the caller's context); the host sets the stage's
	// call timeout, a link the linked stage's.
	Timeout func() time.Duration

	// ch, when set, carries the tensor calls (SetChannel).
	ch *channel.Caller
	// caller is the stage holding this client when it is a link (the
	// linked stage is Stage); empty for the host's clients.
	caller string

	conn    *grpc.ClientConn
	broker  *plugin.GRPCBroker
	plugin  pb.PluginClient
	energy  pb.EnergyClient
	sampler pb.SamplerClient
	data    pb.DataClient
	diag    pb.DiagnosticsClient
}

// NewClient returns a Client on conn. broker is needed only to link stages.
func NewClient(conn *grpc.ClientConn, broker *plugin.GRPCBroker) *Client {
	return &Client{
		Limit: wire.DefaultLimit, conn: conn, broker: broker,
		plugin: pb.NewPluginClient(conn), energy: pb.NewEnergyClient(conn), sampler: pb.NewSamplerClient(conn),
		data: pb.NewDataClient(conn), diag: pb.NewDiagnosticsClient(conn),
	}
}

func (c *Client) fail(method string, err error) error {
	if c.caller != "" {
		if cf := c.linkFailure(err); cf != nil {
			return cf
		}
	}
	if st, ok := status.FromError(err); ok && st.Code() == codes.Unimplemented {
		// The plugin's sdk.ErrUnsupported, or a service the plugin lacks.
		return fmt.Errorf("%s: %w", st.Message(), sdk.ErrUnsupported)
	}
	if c.Wrap != nil {
		return c.Wrap(method, err)
	}
	if perr := PluginError(err); perr != nil {
		return perr // the plugin's own error names its stage and call
	}
	if c.Stage != "" {
		return fmt.Errorf("stage %q: %s: %w", c.Stage, method, err)
	}
	return fmt.Errorf("%s: %w", method, err)
}

func (c *Client) logger() *zerolog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return sdk.Logger()
}

// bidi is a client stream of frames.
type bidi interface {
	Send(*pb.Frame) error
	Recv() (*pb.Frame, error)
	CloseSend() error
}

// call makes one tensor call: through the channel when the client has
// one, else on a fresh gRPC stream that open starts.
func (c *Client) call(ctx context.Context, method, full string, open func(context.Context) (bidi, error), meta proto.Message, tensors ...wire.Named) (*wire.Message, error) {
	if c.ch != nil {
		return c.callChannel(ctx, method, full, meta, tensors, nil)
	}
	s, err := open(ctx)
	if err != nil {
		return nil, c.fail(method, err)
	}
	msg, err := exchange(s, c.Limit, meta, tensors)
	if err != nil {
		return nil, c.fail(method, err)
	}
	return msg, nil
}

// exchange sends one message on s and reads the answer.
func exchange(s bidi, limit int64, meta proto.Message, tensors []wire.Named) (*wire.Message, error) {
	if err := wire.Send(s, meta, tensors...); err != nil {
		// The server's status, if any, arrives on Recv.
		if _, rerr := s.Recv(); rerr != nil {
			return nil, rerr
		}
		return nil, err
	}
	if err := s.CloseSend(); err != nil {
		return nil, err
	}
	return wire.Recv(s, limit)
}

// Info returns the plugin's info.
func (c *Client) Info(ctx context.Context) (sdk.Info, error) {
	r, err := c.plugin.Info(ctx, &pb.Empty{})
	if err != nil {
		return sdk.Info{}, c.fail("info", err)
	}
	return infoFromPB(r), nil
}

// Schema returns the plugin's config schema.
func (c *Client) Schema(ctx context.Context) (sdk.Schema, error) {
	r, err := c.plugin.Schema(ctx, &pb.Empty{})
	if err != nil {
		return sdk.Schema{}, c.fail("schema", err)
	}
	s, err := schemaFromPB(r)
	if err != nil {
		return s, c.fail("schema", err)
	}
	return s, nil
}

// Link connects a stage-reference attribute to another stage's client.
type Link struct {
	Attribute string
	Target    *Client
	Kind      sdk.Kind
}

// ConfigureArgs is what the host sends at Configure.
type ConfigureArgs struct {
	Stage    string
	Seed     uint64
	RunDir   string
	Values   map[string]json.RawMessage
	Links    []Link
	Upstream map[string]sdk.Shapes
}

// Configure sends the stage's configuration. Each link is served to the
// plugin through the broker (the plugin dials it and its calls are
// forwarded to the target stage without decoding) and, where both plugins
// can, through a shared-memory channel from the plugin straight to the
// target, which the plugin then uses instead.
func (c *Client) Configure(ctx context.Context, a ConfigureArgs) (sdk.Shapes, sdk.Problems, error) {
	values, err := json.Marshal(a.Values)
	if err != nil {
		return nil, nil, c.fail("configure", err)
	}
	req := &pb.ConfigureRequest{Stage: a.Stage, Seed: a.Seed, RunDir: a.RunDir, ValuesJson: string(values), Upstream: shapeSetsToPB(a.Upstream)}
	for _, l := range a.Links {
		if c.broker == nil {
			return nil, nil, c.fail("configure", fmt.Errorf("cannot link %q: no broker", l.Attribute))
		}
		id := c.broker.NextId()
		target, kind := l.Target, l.Kind
		go c.broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
			s := grpc.NewServer(GRPCOptions(opts)...)
			RegisterProxy(s, kind, target)
			return s
		})
		pl := &pb.Link{Attribute: l.Attribute, Kind: string(l.Kind), Stage: l.Target.Stage, BrokerId: id}
		if c.Pid > 0 && channel.Enabled() {
			ch, err := l.Target.OpenChannel(ctx, c.Pid, a.Stage)
			if err != nil {
				c.logger().Debug().Str("stage", a.Stage).Str("link", l.Target.Stage).Err(err).Msg("no shared-memory channel for this link; its calls go through the host")
			} else {
				if l.Target.Timeout != nil {
					ch.TimeoutMs = l.Target.Timeout().Milliseconds()
				}
				pl.Channel = ch
			}
		}
		req.Links = append(req.Links, pl)
	}
	r, err := c.plugin.Configure(ctx, req)
	if err != nil {
		return nil, nil, c.fail("configure", err)
	}
	c.ObserveTensors = r.ObserveTensors
	c.Cost = costFromPB(r.Cost)
	return shapesFromPB(r.Shapes), problemsFromPB(r.Diagnostics), nil
}

// SaveState fetches the stage's state.
func (c *Client) SaveState(ctx context.Context) (*sdk.State, error) {
	msg, err := c.call(ctx, "save state", pb.Plugin_SaveState_FullMethodName, func(ctx context.Context) (bidi, error) { return c.plugin.SaveState(ctx) }, nil)
	if err != nil {
		return nil, err
	}
	var meta pb.StateMeta
	if err := msg.Unmarshal(&meta); err != nil {
		return nil, c.fail("save state", err)
	}
	return &sdk.State{Meta: meta.Meta, Tensors: msg.Tensors}, nil
}

// LoadState restores a state.
func (c *Client) LoadState(ctx context.Context, st *sdk.State) error {
	_, err := c.call(ctx, "load state", pb.Plugin_LoadState_FullMethodName, func(ctx context.Context) (bidi, error) { return c.plugin.LoadState(ctx) }, &pb.StateMeta{Meta: st.Meta}, sortedTensors(st.Tensors)...)
	return err
}
