package rpc

import (
	"encoding/json"
	"fmt"

	"github.com/ebmflow/ebmflow/internal/pb"
	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
)

func infoToPB(i sdk.Info) *pb.InfoResponse {
	return &pb.InfoResponse{Name: i.Name, Kind: string(i.Kind), Version: i.Version, Protocol: int32(i.Protocol), Description: i.Description}
}

func infoFromPB(p *pb.InfoResponse) sdk.Info {
	if p == nil {
		return sdk.Info{}
	}
	return sdk.Info{Name: p.Name, Kind: sdk.Kind(p.Kind), Version: p.Version, Protocol: int(p.Protocol), Description: p.Description}
}

func schemaToPB(s sdk.Schema) (*pb.SchemaResponse, error) {
	out := &pb.SchemaResponse{}
	for _, a := range s.Attributes {
		var def string
		if a.Default != nil {
			b, err := json.Marshal(a.Default)
			if err != nil {
				return nil, err
			}
			def = string(b)
		}
		out.Attributes = append(out.Attributes, &pb.Attribute{Name: a.Name, Type: string(a.Type), Required: a.Required, DefaultJson: def, Doc: a.Doc, Enum: a.Enum,
			Min: a.Min, Max: a.Max, MinExclusive: a.MinExclusive, MaxExclusive: a.MaxExclusive})
	}
	return out, nil
}

func schemaFromPB(p *pb.SchemaResponse) (sdk.Schema, error) {
	var s sdk.Schema
	for _, a := range p.GetAttributes() {
		attr := sdk.Attribute{Name: a.Name, Type: sdk.AttrType(a.Type), Required: a.Required, Doc: a.Doc, Enum: a.Enum,
			Bounds: sdk.Bounds{Min: a.Min, Max: a.Max, MinExclusive: a.MinExclusive, MaxExclusive: a.MaxExclusive}}
		if a.DefaultJson != "" {
			if err := json.Unmarshal([]byte(a.DefaultJson), &attr.Default); err != nil {
				return s, err
			}
		}
		s.Attributes = append(s.Attributes, attr)
	}
	return s, nil
}

func problemsToPB(ds sdk.Problems) []*pb.Diagnostic {
	var out []*pb.Diagnostic
	for _, d := range ds {
		sev := pb.Diagnostic_ERROR
		if d.Severity == sdk.SeverityWarning {
			sev = pb.Diagnostic_WARNING
		}
		out = append(out, &pb.Diagnostic{Severity: sev, Summary: d.Summary, Detail: d.Detail, Path: d.Path})
	}
	return out
}

func problemsFromPB(ps []*pb.Diagnostic) sdk.Problems {
	var out sdk.Problems
	for _, p := range ps {
		sev := sdk.SeverityError
		if p.Severity == pb.Diagnostic_WARNING {
			sev = sdk.SeverityWarning
		}
		out = append(out, sdk.Problem{Severity: sev, Summary: p.Summary, Detail: p.Detail, Path: p.Path})
	}
	return out
}

func shapesToPB(s sdk.Shapes) map[string]*pb.Shape {
	if s == nil {
		return nil
	}
	out := make(map[string]*pb.Shape, len(s))
	for k, dims := range s {
		p := &pb.Shape{}
		for _, d := range dims {
			p.Dims = append(p.Dims, int64(d))
		}
		out[k] = p
	}
	return out
}

func shapesFromPB(p map[string]*pb.Shape) sdk.Shapes {
	if p == nil {
		return nil
	}
	out := make(sdk.Shapes, len(p))
	for k, s := range p {
		dims := make([]int, len(s.GetDims()))
		for i, d := range s.GetDims() {
			dims[i] = int(d)
		}
		out[k] = dims
	}
	return out
}

func ints(xs []int64) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = int(x)
	}
	return out
}

func int64s(xs []int) []int64 {
	out := make([]int64, len(xs))
	for i, x := range xs {
		out[i] = int64(x)
	}
	return out
}

func recordToPB(r sdk.Record) *pb.Record {
	return &pb.Record{T: int64(r.T), Lr: r.LR, DSt: r.DST, RT: r.R, MeanPos: r.MeanPos, MeanNeg: r.MeanNeg, Extra: r.Extra, GradNorm: r.GradNorm, WallSeconds: r.Wall}
}

func recordFromPB(p *pb.Record) sdk.Record {
	return sdk.Record{T: int(p.T), LR: p.Lr, DST: p.DSt, R: p.RT, MeanPos: p.MeanPos, MeanNeg: p.MeanNeg, Extra: p.Extra, GradNorm: p.GradNorm, Wall: p.WallSeconds}
}

func describeToPB(d sdk.DataInfo) *pb.DescribeResponse {
	r := &pb.DescribeResponse{Shape: int64s(d.Shape), Size: int64(d.Size), HasDensity: d.HasDensity}
	for _, b := range d.Box {
		r.Box = append(r.Box, &pb.Interval{Lo: b[0], Hi: b[1]})
	}
	return r
}

func describeFromPB(r *pb.DescribeResponse) sdk.DataInfo {
	d := sdk.DataInfo{Shape: ints(r.Shape), Size: int(r.Size), HasDensity: r.HasDensity}
	for _, b := range r.Box {
		d.Box = append(d.Box, [2]float64{b.GetLo(), b.GetHi()})
	}
	return d
}

func costToPB(c *sdk.Cost) *pb.Cost {
	if c == nil {
		return nil
	}
	r := &pb.Cost{GradsPerRow: int64(c.GradsPerRow)}
	for _, d := range c.Draws {
		r.Draws = append(r.Draws, &pb.Draw{Link: d.Link, Rows: int64(d.Rows), Every: int64(d.Every)})
	}
	return r
}

func costFromPB(r *pb.Cost) *sdk.Cost {
	if r == nil {
		return nil
	}
	c := &sdk.Cost{GradsPerRow: int(r.GradsPerRow)}
	for _, d := range r.Draws {
		c.Draws = append(c.Draws, sdk.Draw{Link: d.Link, Rows: int(d.Rows), Every: int(d.Every)})
	}
	return c
}

func updateRequestToPB(r sdk.UpdateRequest) *pb.UpdateRequest {
	return &pb.UpdateRequest{Lr: r.LR, T: int64(r.T)}
}

// updateRequestFromPB rebuilds the request around its tensors.
func updateRequestFromPB(r *pb.UpdateRequest, pos, neg *sdk.Tensor) sdk.UpdateRequest {
	return sdk.UpdateRequest{Pos: pos, Neg: neg, LR: r.Lr, T: int(r.T)}
}

func updateResultToPB(r sdk.UpdateResult) *pb.UpdateResponse {
	return &pb.UpdateResponse{DSt: r.DST, MeanPos: r.MeanPos, MeanNeg: r.MeanNeg, GradNorm: r.GradNorm}
}

func updateResultFromPB(r *pb.UpdateResponse) sdk.UpdateResult {
	return sdk.UpdateResult{DST: r.DSt, MeanPos: r.MeanPos, MeanNeg: r.MeanNeg, GradNorm: r.GradNorm}
}

// sampleRequestToPB leaves out Start, which travels as tensor "start".
func sampleRequestToPB(r sdk.SampleRequest) *pb.SampleRequest {
	return &pb.SampleRequest{N: int64(r.N), Steps: int64(r.Steps), Init: r.Init, LeaveBank: r.LeaveBank, Trace: r.Trace, T: int64(r.T), Mala: r.MALA, Stream: r.Stream}
}

func sampleRequestFromPB(r *pb.SampleRequest, start *sdk.Tensor) sdk.SampleRequest {
	return sdk.SampleRequest{N: int(r.N), Steps: int(r.Steps), Init: r.Init, Start: start,
		LeaveBank: r.LeaveBank, Trace: r.Trace, T: int(r.T), MALA: r.Mala, Stream: r.Stream}
}

// sampleResultToPB leaves out X, which travels as tensor "x".
func sampleResultToPB(r *sdk.SampleResult) *pb.SampleResponse {
	out := &pb.SampleResponse{R: r.R, AcceptRate: r.AcceptRate}
	for _, st := range r.Trace {
		out.Trace = append(out.Trace, &pb.StepStat{MeanEnergy: st.MeanEnergy, DriftNorm: st.DriftNorm})
	}
	return out
}

func sampleResultFromPB(r *pb.SampleResponse, x *sdk.Tensor) *sdk.SampleResult {
	res := &sdk.SampleResult{X: x, R: r.R, AcceptRate: r.AcceptRate}
	for _, st := range r.Trace {
		res.Trace = append(res.Trace, sdk.StepStat{MeanEnergy: st.MeanEnergy, DriftNorm: st.DriftNorm})
	}
	return res
}

func nextRequestToPB(r sdk.NextRequest) *pb.NextRequest {
	return &pb.NextRequest{N: int64(r.N), Stream: r.Stream, Noise: r.Noise, NoiseSet: r.NoiseSet, Split: r.Split}
}

func nextRequestFromPB(r *pb.NextRequest) sdk.NextRequest {
	return sdk.NextRequest{N: int(r.N), Stream: r.Stream, Noise: r.Noise, NoiseSet: r.NoiseSet, Split: r.Split}
}

// recordTensor names the tensors of record i of an Observe call: "pos.I"
// and "neg.I".
func recordTensor(which string, i int) string { return fmt.Sprintf("%s.%d", which, i) }

// recordsToPB converts records, their positives and negatives becoming
// tensors "pos.I" and "neg.I".
func recordsToPB(recs []sdk.Record) (*pb.ObserveRequest, []wire.Named) {
	req := &pb.ObserveRequest{Records: make([]*pb.Record, len(recs))}
	var tensors []wire.Named
	for i, r := range recs {
		req.Records[i] = recordToPB(r)
		if r.Pos != nil {
			tensors = append(tensors, wire.Named{Name: recordTensor("pos", i), Tensor: r.Pos})
		}
		if r.Neg != nil {
			tensors = append(tensors, wire.Named{Name: recordTensor("neg", i), Tensor: r.Neg})
		}
	}
	return req, tensors
}

func recordsFromPB(r *pb.ObserveRequest, tensors map[string]*sdk.Tensor) []sdk.Record {
	recs := make([]sdk.Record, len(r.Records))
	for i, pr := range r.Records {
		recs[i] = recordFromPB(pr)
		recs[i].Pos = tensors[recordTensor("pos", i)]
		recs[i].Neg = tensors[recordTensor("neg", i)]
	}
	return recs
}

func observationToPB(obs *sdk.Observation) *pb.ObserveResponse {
	out := &pb.ObserveResponse{}
	if obs != nil {
		out.Metrics = obs.Metrics
		for _, e := range obs.Events {
			out.Events = append(out.Events, &pb.Event{T: int64(e.T), Level: e.Level, Message: e.Message})
		}
	}
	return out
}

func observationFromPB(r *pb.ObserveResponse) *sdk.Observation {
	obs := &sdk.Observation{Metrics: r.Metrics}
	for _, e := range r.Events {
		obs.Events = append(obs.Events, sdk.Event{T: int(e.T), Level: e.Level, Message: e.Message})
	}
	return obs
}

func reportToPB(r *sdk.Report) *pb.ReportResponse {
	if r == nil {
		return &pb.ReportResponse{}
	}
	return &pb.ReportResponse{Summary: r.Summary, Files: r.Files}
}

func reportFromPB(r *pb.ReportResponse) *sdk.Report {
	return &sdk.Report{Summary: r.Summary, Files: r.Files}
}

func shapeSetsToPB(up map[string]sdk.Shapes) map[string]*pb.ShapeSet {
	out := map[string]*pb.ShapeSet{}
	for attr, s := range up {
		out[attr] = &pb.ShapeSet{Shapes: shapesToPB(s)}
	}
	return out
}

func shapeSetsFromPB(up map[string]*pb.ShapeSet) map[string]sdk.Shapes {
	out := map[string]sdk.Shapes{}
	for attr, set := range up {
		out[attr] = shapesFromPB(set.GetShapes())
	}
	return out
}
