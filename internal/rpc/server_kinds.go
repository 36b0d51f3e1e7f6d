package rpc

import (
	"context"
	"fmt"
	"sort"

	"github.com/ebmflow/ebmflow/internal/pb"
	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
)

func sortedTensors(m map[string]*sdk.Tensor) []wire.Named {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]wire.Named, len(names))
	for i, k := range names {
		out[i] = wire.Named{Name: k, Tensor: m[k]}
	}
	return out
}

type energyServer struct {
	pb.UnimplementedEnergyServer
	impl sdk.Energy
	base *baseServer
}

func (s *energyServer) Energy(stream pb.Energy_EnergyServer) error {
	a, x, err := s.base.recvTensor(stream, "x")
	defer a.close()
	if err != nil {
		return s.base.errorf("energy", err)
	}
	f, err := s.impl.Energy(stream.Context(), x)
	if err == nil {
		err = checkOut("f", f)
	}
	if err != nil {
		return s.base.errorf("energy", err)
	}
	return s.base.send(stream, a, nil, wire.Named{Name: "f", Tensor: f})
}

func (s *energyServer) Grad(stream pb.Energy_GradServer) error {
	a, x, err := s.base.recvTensor(stream, "x")
	defer a.close()
	if err != nil {
		return s.base.errorf("grad", err)
	}
	f, g, err := s.impl.Grad(stream.Context(), x)
	if err == nil {
		err = checkOut("f", f)
	}
	if err == nil {
		err = checkOut("dfdx", g)
	}
	if err != nil {
		return s.base.errorf("grad", err)
	}
	return s.base.send(stream, a, nil, wire.Named{Name: "f", Tensor: f}, wire.Named{Name: "dfdx", Tensor: g})
}

func (s *energyServer) Update(stream pb.Energy_UpdateServer) error {
	msg, a, err := s.base.recv(stream)
	defer a.close()
	if err != nil {
		return s.base.errorf("update", err)
	}
	var req pb.UpdateRequest
	if err := msg.Unmarshal(&req); err != nil {
		return s.base.errorf("update", err)
	}
	pos, err := msg.Tensor("pos")
	if err != nil {
		return s.base.errorf("update", err)
	}
	neg, err := msg.Tensor("neg")
	if err != nil {
		return s.base.errorf("update", err)
	}
	res, err := s.impl.Update(stream.Context(), sdk.UpdateRequest{Pos: pos, Neg: neg, LR: req.Lr, T: int(req.T)})
	if err != nil {
		return s.base.errorf("update", err)
	}
	return s.base.send(stream, a, &pb.UpdateResponse{DSt: res.DST, MeanPos: res.MeanPos, MeanNeg: res.MeanNeg, GradNorm: res.GradNorm})
}

type samplerServer struct {
	pb.UnimplementedSamplerServer
	impl sdk.Sampler
	base *baseServer
}

func (s *samplerServer) Sample(stream pb.Sampler_SampleServer) error {
	msg, a, err := s.base.recv(stream)
	defer a.close()
	if err != nil {
		return s.base.errorf("sample", err)
	}
	var req pb.SampleRequest
	if err := msg.Unmarshal(&req); err != nil {
		return s.base.errorf("sample", err)
	}
	res, err := s.impl.Sample(stream.Context(), sdk.SampleRequest{
		N: int(req.N), Steps: int(req.Steps), Init: req.Init, Start: msg.Tensors["start"],
		LeaveBank: req.LeaveBank, Trace: req.Trace, T: int(req.T), MALA: req.Mala, Stream: req.Stream,
	})
	if err == nil {
		err = checkOut("x", res.X)
	}
	if err != nil {
		return s.base.errorf("sample", err)
	}
	out := &pb.SampleResponse{R: res.R, AcceptRate: res.AcceptRate}
	for _, st := range res.Trace {
		out.Trace = append(out.Trace, &pb.StepStat{MeanEnergy: st.MeanEnergy, DriftNorm: st.DriftNorm})
	}
	return s.base.send(stream, a, out, wire.Named{Name: "x", Tensor: res.X})
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
	return &pb.DescribeResponse{Shape: int64s(d.Shape), Size: int64(d.Size), HasDensity: d.HasDensity, Box: d.Box}, nil
}

func (s *dataServer) Next(stream pb.Data_NextServer) error {
	msg, a, err := s.base.recv(stream)
	defer a.close()
	if err != nil {
		return s.base.errorf("next", err)
	}
	var req pb.NextRequest
	if err := msg.Unmarshal(&req); err != nil {
		return s.base.errorf("next", err)
	}
	x, err := s.impl.Next(stream.Context(), sdk.NextRequest{N: int(req.N), Stream: req.Stream, Noise: req.Noise, NoiseSet: req.NoiseSet})
	if err == nil {
		err = checkOut("x", x)
	}
	if err != nil {
		return s.base.errorf("next", err)
	}
	return s.base.send(stream, a, nil, wire.Named{Name: "x", Tensor: x})
}

func (s *dataServer) LogDensity(stream pb.Data_LogDensityServer) error {
	a, x, err := s.base.recvTensor(stream, "x")
	defer a.close()
	if err != nil {
		return s.base.errorf("log density", err)
	}
	lp, err := s.impl.LogDensity(stream.Context(), x)
	if err == nil {
		err = checkOut("logp", lp)
	}
	if err != nil {
		return s.base.errorf("log density", err)
	}
	return s.base.send(stream, a, nil, wire.Named{Name: "logp", Tensor: lp})
}

type diagServer struct {
	pb.UnimplementedDiagnosticsServer
	impl sdk.Diagnoser
	base *baseServer
}

func (s *diagServer) Observe(stream pb.Diagnostics_ObserveServer) error {
	msg, a, err := s.base.recv(stream)
	defer a.close()
	if err != nil {
		return s.base.errorf("observe", err)
	}
	var req pb.ObserveRequest
	if err := msg.Unmarshal(&req); err != nil {
		return s.base.errorf("observe", err)
	}
	recs := make([]sdk.Record, len(req.Records))
	for i, r := range req.Records {
		recs[i] = recordFromPB(r)
		recs[i].Pos = msg.Tensors[fmt.Sprintf("pos.%d", i)]
		recs[i].Neg = msg.Tensors[fmt.Sprintf("neg.%d", i)]
	}
	obs, err := s.impl.Observe(stream.Context(), recs)
	if err != nil {
		return s.base.errorf("observe", err)
	}
	out := &pb.ObserveResponse{}
	if obs != nil {
		out.Metrics = obs.Metrics
		for _, e := range obs.Events {
			out.Events = append(out.Events, &pb.Event{T: int64(e.T), Level: e.Level, Message: e.Message})
		}
	}
	return s.base.send(stream, a, out)
}

func (s *diagServer) Report(ctx context.Context, req *pb.ReportRequest) (*pb.ReportResponse, error) {
	r, err := s.impl.Report(ctx, req.Final)
	if err != nil {
		return nil, s.base.errorf("report", err)
	}
	if r == nil {
		return &pb.ReportResponse{}, nil
	}
	return &pb.ReportResponse{Summary: r.Summary, Files: r.Files}, nil
}
