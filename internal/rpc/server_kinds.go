package rpc

import (
	"context"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/ebmflow/ebmflow/internal/pb"
	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
	"google.golang.org/protobuf/proto"
)

// A method is one tensor-carrying call a plugin serves, the same whether it
// arrives as a gRPC frame stream or through a channel: the decoded request
// in, the answer's message and tensors out. link says whether a linked
// stage may call it (the host may call every method). borrow says that
// the implementation uses the request's tensors only until it returns (the
// sdk's contract for Energy, Grad and LogDensity), so that a channel may
// decode them into storage it reuses.
type method struct {
	name   string // for errors: "grad"
	link   bool
	borrow bool
	run    func(ctx context.Context, req *wire.Message) (proto.Message, []wire.Named, error)
	// stream, if set, serves the call instead of run with the request's
	// tensors read as they arrive; its answer has no message and no
	// tensors (LoadState of an sdk.StateLoader).
	stream func(ctx context.Context, meta []byte, body wire.TensorReader) error
}

// MethodName returns the name errors and logs use for a gRPC method of
// the protocol ("/ebmflow.v1.Energy/Grad" is "grad").
func MethodName(full string) string {
	name := full[strings.LastIndex(full, "/")+1:]
	var b strings.Builder
	for i, r := range name {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte(' ')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func sortedTensors(m map[string]*sdk.Tensor) []wire.Named {
	names := slices.Sorted(maps.Keys(m))
	out := make([]wire.Named, len(names))
	for i, k := range names {
		out[i] = wire.Named{Name: k, Tensor: m[k]}
	}
	return out
}

// baseMethods are the Plugin service's state calls. A plugin with large
// state (sdk.StateSaver, sdk.StateLoader) has its tensors sent from its own
// memory and read into it as they arrive (state.go).
func baseMethods(impl sdk.Base) map[string]method {
	save := method{name: "save state", run: func(ctx context.Context, _ *wire.Message) (proto.Message, []wire.Named, error) {
		st, err := impl.SaveState(ctx)
		if err != nil {
			return nil, nil, err
		}
		if st == nil {
			st = &sdk.State{}
		}
		return &pb.StateMeta{Meta: st.Meta}, sortedTensors(st.Tensors), nil
	}}
	if s, ok := impl.(sdk.StateSaver); ok {
		save.run = func(ctx context.Context, _ *wire.Message) (proto.Message, []wire.Named, error) {
			return saveStateTo(ctx, s)
		}
	}
	load := method{name: "load state", run: func(ctx context.Context, req *wire.Message) (proto.Message, []wire.Named, error) {
		var meta pb.StateMeta
		if err := req.Unmarshal(&meta); err != nil {
			return nil, nil, err
		}
		return nil, nil, impl.LoadState(ctx, &sdk.State{Meta: meta.Meta, Tensors: req.Tensors})
	}}
	if l, ok := impl.(sdk.StateLoader); ok {
		load.stream = func(ctx context.Context, meta []byte, body wire.TensorReader) error {
			return loadStateFrom(ctx, l, meta, body)
		}
	}
	return map[string]method{pb.Plugin_SaveState_FullMethodName: save, pb.Plugin_LoadState_FullMethodName: load}
}

func energyMethods(impl sdk.Energy) map[string]method {
	return map[string]method{
		pb.Energy_Energy_FullMethodName: {name: "energy", link: true, borrow: true, run: func(ctx context.Context, req *wire.Message) (proto.Message, []wire.Named, error) {
			x, err := req.Tensor("x")
			if err != nil {
				return nil, nil, err
			}
			f, err := impl.Energy(ctx, x)
			if err == nil {
				err = checkOut("f", f)
			}
			return nil, []wire.Named{{Name: "f", Tensor: f}}, err
		}},
		pb.Energy_Grad_FullMethodName: {name: "grad", link: true, borrow: true, run: func(ctx context.Context, req *wire.Message) (proto.Message, []wire.Named, error) {
			x, err := req.Tensor("x")
			if err != nil {
				return nil, nil, err
			}
			var f, g *sdk.Tensor
			if gi, ok := impl.(sdk.GradIntoer); ok {
				out := req.Out
				if out == nil {
					out = sdk.NewTensor
				}
				f, g, err = gi.GradInto(ctx, x, out(x.DType, x.Batch()), out(x.DType, x.Shape...))
			} else {
				f, g, err = impl.Grad(ctx, x)
			}
			if err == nil {
				err = checkOut("f", f)
			}
			if err == nil {
				err = checkOut("dfdx", g)
			}
			return nil, []wire.Named{{Name: "f", Tensor: f}, {Name: "dfdx", Tensor: g}}, err
		}},
		pb.Energy_Update_FullMethodName: {name: "update", run: func(ctx context.Context, req *wire.Message) (proto.Message, []wire.Named, error) {
			var r pb.UpdateRequest
			if err := req.Unmarshal(&r); err != nil {
				return nil, nil, err
			}
			pos, err := req.Tensor("pos")
			if err != nil {
				return nil, nil, err
			}
			neg, err := req.Tensor("neg")
			if err != nil {
				return nil, nil, err
			}
			res, err := impl.Update(ctx, updateRequestFromPB(&r, pos, neg))
			if err != nil {
				return nil, nil, err
			}
			return updateResultToPB(res), nil, nil
		}},
	}
}

func samplerMethods(impl sdk.Sampler) map[string]method {
	return map[string]method{
		pb.Sampler_Sample_FullMethodName: {name: "sample", link: true, run: func(ctx context.Context, req *wire.Message) (proto.Message, []wire.Named, error) {
			var r pb.SampleRequest
			if err := req.Unmarshal(&r); err != nil {
				return nil, nil, err
			}
			res, err := impl.Sample(ctx, sampleRequestFromPB(&r, req.Tensors["start"]))
			if err == nil {
				err = checkOut("x", res.X)
			}
			if err != nil {
				return nil, nil, err
			}
			return sampleResultToPB(res), []wire.Named{{Name: "x", Tensor: res.X}}, nil
		}},
	}
}

func dataMethods(impl sdk.Data) map[string]method {
	return map[string]method{
		pb.Data_Describe_FullMethodName: {name: "describe", link: true, run: func(ctx context.Context, _ *wire.Message) (proto.Message, []wire.Named, error) {
			d, err := impl.Describe(ctx)
			if err != nil {
				return nil, nil, err
			}
			return describeToPB(d), nil, nil
		}},
		pb.Data_Next_FullMethodName: {name: "next", link: true, run: func(ctx context.Context, req *wire.Message) (proto.Message, []wire.Named, error) {
			var r pb.NextRequest
			if err := req.Unmarshal(&r); err != nil {
				return nil, nil, err
			}
			x, err := impl.Next(ctx, nextRequestFromPB(&r))
			if err == nil {
				err = checkOut("x", x)
			}
			return nil, []wire.Named{{Name: "x", Tensor: x}}, err
		}},
		pb.Data_LogDensity_FullMethodName: {name: "log density", link: true, borrow: true, run: func(ctx context.Context, req *wire.Message) (proto.Message, []wire.Named, error) {
			x, err := req.Tensor("x")
			if err != nil {
				return nil, nil, err
			}
			lp, err := impl.LogDensity(ctx, x)
			if err == nil {
				err = checkOut("logp", lp)
			}
			return nil, []wire.Named{{Name: "logp", Tensor: lp}}, err
		}},
	}
}

// diagMethods: Observe carries the records and, for a stage that asked for
// them, each record's positives and negatives as tensors "pos.I", "neg.I".
func diagMethods(impl sdk.Diagnoser) map[string]method {
	return map[string]method{
		pb.Diagnostics_Observe_FullMethodName: {name: "observe", run: func(ctx context.Context, req *wire.Message) (proto.Message, []wire.Named, error) {
			var r pb.ObserveRequest
			if err := req.Unmarshal(&r); err != nil {
				return nil, nil, err
			}
			obs, err := impl.Observe(ctx, recordsFromPB(&r, req.Tensors))
			if err != nil {
				return nil, nil, err
			}
			return observationToPB(obs), nil, nil
		}},
	}
}

// The gRPC services: each tensor call runs its method over the stream.

type energyServer struct {
	pb.UnimplementedEnergyServer
	base *baseServer
}

func (s *energyServer) Energy(st pb.Energy_EnergyServer) error {
	return s.base.serveStream(st, pb.Energy_Energy_FullMethodName)
}

func (s *energyServer) Grad(st pb.Energy_GradServer) error {
	return s.base.serveStream(st, pb.Energy_Grad_FullMethodName)
}

func (s *energyServer) Update(st pb.Energy_UpdateServer) error {
	return s.base.serveStream(st, pb.Energy_Update_FullMethodName)
}

type samplerServer struct {
	pb.UnimplementedSamplerServer
	base *baseServer
}

func (s *samplerServer) Sample(st pb.Sampler_SampleServer) error {
	return s.base.serveStream(st, pb.Sampler_Sample_FullMethodName)
}

type dataServer struct {
	pb.UnimplementedDataServer
	impl sdk.Data
	base *baseServer
}

func (s *dataServer) Describe(ctx context.Context, _ *pb.Empty) (*pb.DescribeResponse, error) {
	d, err := s.impl.Describe(ctx)
	if err != nil {
		return nil, s.base.errorf("describe", err)
	}
	return describeToPB(d), nil
}

func (s *dataServer) Next(st pb.Data_NextServer) error {
	return s.base.serveStream(st, pb.Data_Next_FullMethodName)
}

func (s *dataServer) LogDensity(st pb.Data_LogDensityServer) error {
	return s.base.serveStream(st, pb.Data_LogDensity_FullMethodName)
}

type diagServer struct {
	pb.UnimplementedDiagnosticsServer
	impl sdk.Diagnoser
	base *baseServer
}

func (s *diagServer) Observe(st pb.Diagnostics_ObserveServer) error {
	return s.base.serveStream(st, pb.Diagnostics_Observe_FullMethodName)
}

func (s *diagServer) Report(ctx context.Context, req *pb.ReportRequest) (*pb.ReportResponse, error) {
	r, err := s.impl.Report(ctx, req.Final)
	if err != nil {
		return nil, s.base.errorf("report", err)
	}
	return reportToPB(r), nil
}
