package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"

	"github.com/ebmflow/ebmflow/internal/channel"
	"github.com/ebmflow/ebmflow/internal/pb"
	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// baseServer serves the Plugin service for any kind, and holds the table
// of the plugin's tensor calls that both transports use.
type baseServer struct {
	pb.UnimplementedPluginServer
	impl    sdk.Base
	broker  *plugin.GRPCBroker
	limit   int64
	methods map[string]method

	mu    sync.Mutex
	stage string
	conns []*grpc.ClientConn
}

// errorf turns an implementation error into a gRPC status naming the stage,
// with the code of the sdk sentinel it wraps (errors.go); a failed call to a
// linked stage keeps its CallFailure in the status's details, so that the
// host can name the stage that really failed.
func (s *baseServer) errorf(method string, err error) error {
	s.mu.Lock()
	stage := s.stage
	s.mu.Unlock()
	if stage == "" {
		stage = s.impl.Info().Name
	}
	// "stage "s": grad: ...", unless the plugin's message already says
	// which call it was ("grad: output F: ..."): no "grad: grad:".
	msg := err.Error()
	if !strings.HasPrefix(msg, method+": ") {
		msg = method + ": " + msg
	}
	st := status.Newf(codeOf(err), "stage %q: %s", stage, msg)
	var cf *CallFailure
	if errors.As(err, &cf) {
		if d, derr := st.WithDetails(cf.toPB()); derr == nil {
			st = d
		}
	}
	return st.Err()
}

// serveStream runs a tensor call that arrived as a gRPC frame stream.
func (s *baseServer) serveStream(st interface {
	wire.Sender
	wire.Receiver
	Context() context.Context
}, full string) error {
	m := s.methods[full]
	if m.stream != nil {
		fr, err := wire.NewFrameReader(st, s.limit)
		if err != nil {
			return s.errorf(m.name, err)
		}
		err = m.stream(st.Context(), fr.Meta(), fr)
		for err == nil {
			// What the plugin did not read is received before answering.
			if _, err = fr.Next(); err == io.EOF {
				err = nil
				break
			}
		}
		if err != nil {
			return s.errorf(m.name, err)
		}
		return wire.Send(st, nil)
	}
	req, err := wire.Recv(st, s.limit)
	if err != nil {
		return s.errorf(m.name, err)
	}
	meta, ts, err := m.run(st.Context(), req)
	if err != nil {
		return s.errorf(m.name, err)
	}
	return wire.Send(st, meta, ts...)
}

func (s *baseServer) Info(context.Context, *pb.Empty) (*pb.InfoResponse, error) {
	info := s.impl.Info()
	info.Protocol = sdk.ProtocolVersion
	if info.Kind == "" {
		info.Kind = KindOf(s.impl)
	}
	return infoToPB(info), nil
}

func (s *baseServer) Schema(context.Context, *pb.Empty) (*pb.SchemaResponse, error) {
	return schemaToPB(s.impl.Schema())
}

func (s *baseServer) Configure(ctx context.Context, req *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	linked := map[string]string{}
	for _, l := range req.Links {
		linked[l.Attribute] = l.Stage
	}
	cfg, diags := BuildConfig(s.impl.Schema(), req.Stage, req.Seed, req.RunDir, []byte(req.ValuesJson), linked)
	if diags.HasErrors() {
		return &pb.ConfigureResponse{Diagnostics: problemsToPB(diags)}, nil
	}
	cfg.Upstream = shapeSetsFromPB(req.Upstream)
	for _, l := range req.Links {
		if s.broker == nil {
			return nil, status.Errorf(codes.FailedPrecondition, "stage %q: attribute %q links stage %q but no broker is available", req.Stage, l.Attribute, l.Stage)
		}
		conn, err := s.broker.Dial(l.BrokerId)
		if err != nil {
			return nil, status.Errorf(codes.Unavailable, "stage %q: attribute %q: dial linked stage %q: %v", req.Stage, l.Attribute, l.Stage, err)
		}
		s.mu.Lock()
		s.conns = append(s.conns, conn)
		s.mu.Unlock()
		c := NewClient(conn, nil)
		c.Stage, c.Limit, c.caller = l.Stage, s.limit, req.Stage
		if ch := l.GetChannel(); ch != nil && channel.Enabled() {
			if err := s.dialChannel(c, ch); err != nil {
				sdk.Logger().Debug().Str("stage", req.Stage).Str("link", l.Stage).Err(err).Msg("no shared-memory channel to the linked stage; its calls go through the host")
			}
		}
		cfg.SetLink(l.Attribute, c)
	}
	s.mu.Lock()
	s.stage = req.Stage
	s.mu.Unlock()
	shapes, more := s.impl.Configure(ctx, cfg)
	diags = append(diags, more...)
	return &pb.ConfigureResponse{Diagnostics: problemsToPB(diags), Shapes: shapesToPB(shapes), ObserveTensors: cfg.WantsTensors(), Cost: costToPB(cfg.DeclaredCost())}, nil
}

// BuildConfig decodes a values JSON object against schema, fills defaults,
// and reports unknown or missing attributes as diagnostics. A stage-reference
// attribute's value is the linked stage's name, taken from linked (attribute
// to stage) when the values do not give it. The host has already checked
// types and bounds against the schema; this is the plugin's own guard
// (numbers: whole for an int, within the bounds).
func BuildConfig(schema sdk.Schema, stage string, seed uint64, runDir string, values []byte, linked map[string]string) (*sdk.Config, sdk.Problems) {
	var diags sdk.Problems
	cfg := &sdk.Config{Stage: stage, Seed: seed, RunDir: runDir, Values: map[string]json.RawMessage{}, Schema: schema}
	if len(bytes.TrimSpace(values)) > 0 {
		if err := json.Unmarshal(values, &cfg.Values); err != nil {
			diags.Errorf(nil, "Invalid configuration", "the configuration is not a JSON object: %v", err)
			return cfg, diags
		}
	}
	if cfg.Values == nil {
		cfg.Values = map[string]json.RawMessage{}
	}
	for attr, target := range linked {
		if !cfg.Has(attr) {
			cfg.Values[attr], _ = json.Marshal(target)
		}
	}
	for name, raw := range cfg.Values {
		a, ok := schema.Lookup(name)
		if !ok {
			diags.Errorf([]string{name}, "Unsupported argument", "an argument named %q is not expected here", name)
			continue
		}
		if err := checkValue(a, raw); err != nil {
			diags.Errorf([]string{name}, "Invalid value", "%s %v", name, err)
		}
	}
	for _, a := range schema.Attributes {
		if cfg.Has(a.Name) {
			continue
		}
		if a.Required {
			diags.Errorf([]string{a.Name}, "Missing required argument", "the argument %q is required", a.Name)
			continue
		}
		if a.Default != nil {
			b, _ := json.Marshal(a.Default)
			cfg.Values[a.Name] = b
		}
	}
	return cfg, diags
}

// checkValue checks a number, int or list(number) value against the
// attribute's type and bounds; other types are left to the plugin.
func checkValue(a sdk.Attribute, raw json.RawMessage) error {
	var vals []float64
	switch a.Type {
	case sdk.TypeNumber, sdk.TypeInt:
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil {
			return fmt.Errorf("is not a number: %s", raw)
		}
		if a.Type == sdk.TypeInt && (f != math.Trunc(f) || math.Abs(f) > sdk.MaxWhole) {
			return fmt.Errorf("= %s is not a whole number of magnitude at most 2^53", sdk.FormatNumber(f))
		}
		vals = []float64{f}
	case sdk.TypeListNumber:
		if err := json.Unmarshal(raw, &vals); err != nil {
			return fmt.Errorf("is not a list of numbers: %s", raw)
		}
	}
	for _, f := range vals {
		if err := a.Bounds.Check(f); err != nil {
			return fmt.Errorf("= %s %w (range %s)", sdk.FormatNumber(f), err, a.Bounds)
		}
	}
	return nil
}

func (s *baseServer) SaveState(st pb.Plugin_SaveStateServer) error {
	return s.serveStream(st, pb.Plugin_SaveState_FullMethodName)
}

func (s *baseServer) LoadState(st pb.Plugin_LoadStateServer) error {
	return s.serveStream(st, pb.Plugin_LoadState_FullMethodName)
}

// checkOut refuses an implementation's malformed or missing result tensor.
func checkOut(name string, t *sdk.Tensor) error {
	if t == nil {
		return fmt.Errorf("result tensor %q is nil", name)
	}
	if err := t.Validate(); err != nil {
		return fmt.Errorf("result tensor %q: %w", name, err)
	}
	return nil
}
