package rpc

import (
	"encoding/json"

	"github.com/ebmflow/ebmflow/internal/pb"
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
		out.Attributes = append(out.Attributes, &pb.Attribute{Name: a.Name, Type: string(a.Type), Required: a.Required, DefaultJson: def, Doc: a.Doc, Enum: a.Enum})
	}
	return out, nil
}

func schemaFromPB(p *pb.SchemaResponse) (sdk.Schema, error) {
	var s sdk.Schema
	for _, a := range p.GetAttributes() {
		attr := sdk.Attribute{Name: a.Name, Type: sdk.AttrType(a.Type), Required: a.Required, Doc: a.Doc, Enum: a.Enum}
		if a.DefaultJson != "" {
			if err := json.Unmarshal([]byte(a.DefaultJson), &attr.Default); err != nil {
				return s, err
			}
		}
		s.Attributes = append(s.Attributes, attr)
	}
	return s, nil
}

func diagsToPB(ds sdk.Diagnostics) []*pb.Diagnostic {
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

func diagsFromPB(ps []*pb.Diagnostic) sdk.Diagnostics {
	var out sdk.Diagnostics
	for _, p := range ps {
		sev := sdk.SeverityError
		if p.Severity == pb.Diagnostic_WARNING {
			sev = sdk.SeverityWarning
		}
		out = append(out, sdk.Diagnostic{Severity: sev, Summary: p.Summary, Detail: p.Detail, Path: p.Path})
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
	return &pb.DescribeResponse{Shape: int64s(d.Shape), Size: int64(d.Size), HasDensity: d.HasDensity, Box: d.Box}
}

func describeFromPB(r *pb.DescribeResponse) sdk.DataInfo {
	return sdk.DataInfo{Shape: ints(r.Shape), Size: int(r.Size), HasDensity: r.HasDensity, Box: r.Box}
}
