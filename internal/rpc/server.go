package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/ebmflow/ebmflow/internal/pb"
	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// baseServer serves the Plugin service for any kind.
type baseServer struct {
	pb.UnimplementedPluginServer
	impl   sdk.Base
	broker *plugin.GRPCBroker
	limit  int64
	// shm: this server maps its callers' shared memory (wire.ShmEnabled).
	shm     bool
	refused shmRefusal

	mu    sync.Mutex
	stage string
	conns []*grpc.ClientConn
}

// errorf turns an implementation error into a gRPC status naming the stage.
func (s *baseServer) errorf(method string, err error) error {
	s.mu.Lock()
	stage := s.stage
	s.mu.Unlock()
	if stage == "" {
		stage = s.impl.Info().Name
	}
	code := codes.Unknown
	switch {
	case errors.Is(err, sdk.ErrUnsupported):
		code = codes.Unimplemented
	case errors.Is(err, wire.ErrShm):
		// A handle this server cannot use, found before the call ran:
		// the caller repeats it inline.
		code = codes.FailedPrecondition
	}
	return status.Errorf(code, "stage %q: %s: %v", stage, method, err)
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
		return &pb.ConfigureResponse{Diagnostics: diagsToPB(diags)}, nil
	}
	cfg.Upstream = map[string]sdk.Shapes{}
	for attr, set := range req.Upstream {
		cfg.Upstream[attr] = shapesFromPB(set.GetShapes())
	}
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
		c.Stage = l.Stage
		cfg.SetLink(l.Attribute, c)
	}
	s.mu.Lock()
	s.stage = req.Stage
	s.mu.Unlock()
	shapes, more := s.impl.Configure(ctx, cfg)
	diags = append(diags, more...)
	return &pb.ConfigureResponse{Diagnostics: diagsToPB(diags), Shapes: shapesToPB(shapes), ObserveTensors: cfg.WantsTensors()}, nil
}

// BuildConfig decodes a values JSON object against schema, fills defaults,
// and reports unknown or missing attributes as diagnostics. A stage-reference
// attribute's value is the linked stage's name, taken from linked (attribute
// to stage) when the values do not give it. The host has already checked
// types against the schema; this is the plugin's own guard.
func BuildConfig(schema sdk.Schema, stage string, seed uint64, runDir string, values []byte, linked map[string]string) (*sdk.Config, sdk.Diagnostics) {
	var diags sdk.Diagnostics
	cfg := &sdk.Config{Stage: stage, Seed: seed, RunDir: runDir, Values: map[string]json.RawMessage{}}
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
	for name := range cfg.Values {
		if _, ok := schema.Lookup(name); !ok {
			diags.Errorf([]string{name}, "Unsupported argument", "an argument named %q is not expected here", name)
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

func (s *baseServer) SaveState(stream pb.Plugin_SaveStateServer) error {
	_, a, err := s.recv(stream)
	defer a.close()
	if err != nil {
		return s.errorf("save state", err)
	}
	st, err := s.impl.SaveState(stream.Context())
	if err != nil {
		return s.errorf("save state", err)
	}
	if st == nil {
		st = &sdk.State{}
	}
	return s.send(stream, a, &pb.StateMeta{Meta: st.Meta}, sortedTensors(st.Tensors)...)
}

func (s *baseServer) LoadState(stream pb.Plugin_LoadStateServer) error {
	msg, a, err := s.recv(stream)
	defer a.close()
	if err != nil {
		return s.errorf("load state", err)
	}
	var meta pb.StateMeta
	if err := msg.Unmarshal(&meta); err != nil {
		return s.errorf("load state", err)
	}
	if err := s.impl.LoadState(stream.Context(), &sdk.State{Meta: meta.Meta, Tensors: msg.Tensors}); err != nil {
		return s.errorf("load state", err)
	}
	return s.send(stream, a, nil)
}

// recvTensor reads a request whose tensor name is given.
func (s *baseServer) recvTensor(r wire.Receiver, name string) (*answer, *sdk.Tensor, error) {
	msg, a, err := s.recv(r)
	if err != nil {
		return a, nil, err
	}
	t, err := msg.Tensor(name)
	return a, t, err
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
