package pipeline

import (
	"errors"
	"fmt"

	"github.com/ebmflow/ebmflow/core/schedule"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
)

func (p *Pipeline) decodeSchedules(blocks []*hcl.Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, b := range blocks {
		if b.Labels[0] != "lr" {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown schedule",
				Detail: fmt.Sprintf("Only the learning-rate schedule, schedule \"lr\", is supported; got %q.", b.Labels[0]), Subject: b.LabelRanges[0].Ptr()})
			continue
		}
		if p.Schedule != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate schedule",
				Detail: fmt.Sprintf("schedule \"lr\" was already declared at %s.", p.ScheduleRange), Subject: b.DefRange.Ptr()})
			continue
		}
		cfg := &schedule.Config{}
		if dependsOnUnknown(b.Body, p.ctx) {
			// A variable it uses was given an invalid value, reported
			// there; the schedule is not checked on top of that.
			p.Schedule, p.ScheduleRange = cfg, b.DefRange
			continue
		}
		more := gohcl.DecodeBody(b.Body, p.ctx, cfg)
		diags = append(diags, more...)
		if !more.HasErrors() {
			if err := cfg.Validate(); err != nil {
				subject := b.DefRange
				var bad *schedule.Error
				if attrs, _ := b.Body.JustAttributes(); errors.As(err, &bad) && attrs[bad.Field] != nil {
					subject = attrs[bad.Field].Expr.Range()
				}
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid schedule",
					Detail: err.Error() + ".", Subject: subject.Ptr()})
			}
		}
		p.Schedule, p.ScheduleRange = cfg, b.DefRange
	}
	return diags
}

var trainSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "iterations", Required: true}, {Name: "seed"}, {Name: "checkpoint_every"}, {Name: "keep_checkpoints"},
	{Name: "sample_every"}, {Name: "output"}, {Name: "on_nonfinite"}, {Name: "batch"},
	{Name: "energy", Required: true}, {Name: "sampler", Required: true}, {Name: "data", Required: true}, {Name: "diagnostics"},
}}

// NonfiniteActions are the values of train.on_nonfinite.
var NonfiniteActions = []string{"stop", "ignore"}

func (p *Pipeline) decodeTrain(b *hcl.Block) hcl.Diagnostics {
	c, diags := b.Body.Content(trainSchema)
	t := &Train{DeclRange: b.DefRange, CheckpointEvery: 1000, KeepCheckpoints: 3, SampleEvery: 1000, OnNonfinite: "stop", Batch: 100, roleRanges: map[string]hcl.Range{}}
	for name, a := range c.Attributes {
		switch name {
		case "iterations":
			diags = append(diags, eval(p, a, &t.Iterations, 1)...)
		case "seed":
			var s int
			diags = append(diags, eval(p, a, &s, 0)...)
			t.Seed = uint64(s)
		case "checkpoint_every":
			diags = append(diags, eval(p, a, &t.CheckpointEvery, 0)...)
		case "keep_checkpoints":
			diags = append(diags, eval(p, a, &t.KeepCheckpoints, 1)...)
		case "sample_every":
			diags = append(diags, eval(p, a, &t.SampleEvery, 0)...)
		case "batch":
			diags = append(diags, eval(p, a, &t.Batch, 1)...)
		case "output":
			diags = append(diags, eval(p, a, &t.Output, 0)...)
		case "on_nonfinite":
			diags = append(diags, eval(p, a, &t.OnNonfinite, 0)...)
			if !contains(NonfiniteActions, t.OnNonfinite) {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value",
					Detail: fmt.Sprintf("on_nonfinite must be one of %s; got %q.", quoteList(NonfiniteActions), t.OnNonfinite), Subject: a.Expr.Range().Ptr()})
			}
		case "energy", "sampler", "data":
			ref, more := stageRef(a.Expr)
			diags = append(diags, more...)
			switch name {
			case "energy":
				t.Energy = ref
			case "sampler":
				t.Sampler = ref
			case "data":
				t.Data = ref
			}
			t.roleRanges[name] = a.Expr.Range()
		case "diagnostics":
			exprs, more := hcl.ExprList(a.Expr)
			diags = append(diags, more...)
			for i, e := range exprs {
				ref, more := stageRef(e)
				diags = append(diags, more...)
				t.Diagnostics = append(t.Diagnostics, ref)
				t.roleRanges[fmt.Sprintf("diagnostics[%d]", i)] = e.Range()
			}
		}
	}
	p.Train = t
	return diags
}

// stageRef reads an expression that must be a reference stage.NAME.
func stageRef(e hcl.Expression) (string, hcl.Diagnostics) {
	tr, diags := hcl.AbsTraversalForExpr(e)
	if diags.HasErrors() || len(tr) != 2 || tr.RootName() != "stage" {
		return "", hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid stage reference",
			Detail: "Expected a reference to a stage, written stage.NAME.", Subject: e.Range().Ptr()}}
	}
	step, ok := tr[1].(hcl.TraverseAttr)
	if !ok {
		return "", hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid stage reference",
			Detail: "Expected a reference to a stage, written stage.NAME.", Subject: e.Range().Ptr()}}
	}
	return step.Name, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// dependsOnUnknown reports whether an attribute of body evaluates to an
// unknown value: one that depends on a variable whose value was invalid.
func dependsOnUnknown(body hcl.Body, ctx *hcl.EvalContext) bool {
	attrs, diags := body.JustAttributes()
	if diags.HasErrors() {
		return false
	}
	for _, a := range attrs {
		if v, d := a.Expr.Value(ctx); !d.HasErrors() && !v.IsWhollyKnown() {
			return true
		}
	}
	return false
}
