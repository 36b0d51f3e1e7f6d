package runner

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/core/pipeline"
	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/hashicorp/hcl/v2"
)

// Stages are the running plugin processes of a pipeline.
type Stages struct {
	P      *pipeline.Pipeline
	Host   *host.Host
	Procs  map[string]*host.Process
	Shapes map[string]sdk.Shapes
}

// Launch starts and configures every stage in dependency order, linking
// stage references through the broker. runDir "" means validation only.
// Plugin diagnostics are mapped to the stage block's source ranges; shapes
// that disagree between the data, sampler and energy stages are reported.
func Launch(ctx context.Context, p *pipeline.Pipeline, r *host.Resolver, h *host.Host, runDir string) (*Stages, hcl.Diagnostics) {
	st := &Stages{P: p, Host: h, Procs: map[string]*host.Process{}, Shapes: map[string]sdk.Shapes{}}
	var diags hcl.Diagnostics
	seed := p.Train.Seed
	for _, s := range p.Order {
		blocked := false
		for _, target := range s.Refs {
			if st.Procs[target] == nil {
				blocked = true
			}
		}
		if blocked {
			continue // a referenced stage failed; its error is reported
		}
		proc, err := h.Start(ctx, s.Name, r.Binary(s.Plugin))
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Plugin failed to start", Detail: err.Error(), Subject: s.PluginRange.Ptr()})
			continue
		}
		args := rpc.ConfigureArgs{Stage: s.Name, Seed: sdk.DeriveSeed(seed, "stage:"+s.Name), RunDir: runDir, Values: s.Values, Upstream: map[string]sdk.Shapes{}}
		attrs := slices.Sorted(maps.Keys(s.Refs))
		for _, a := range attrs {
			target := s.Refs[a]
			args.Links = append(args.Links, rpc.Link{Attribute: a, Target: st.Procs[target].Client, Kind: p.Stage(target).Kind})
			args.Upstream[a] = st.Shapes[target]
		}
		shapes, pd, err := proc.Configure(ctx, args)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Stage failed to configure", Detail: err.Error(), Subject: s.DeclRange.Ptr()})
			proc.Kill()
			continue
		}
		for _, d := range pd {
			diags = append(diags, pluginDiagnostic(s, d))
		}
		if pd.HasErrors() {
			proc.Kill()
			continue
		}
		if s.Timeout > 0 {
			proc.SetCallTimeout(time.Duration(s.Timeout * float64(time.Second)))
		}
		st.Procs[s.Name], st.Shapes[s.Name] = proc, shapes
	}
	if !diags.HasErrors() {
		diags = append(diags, st.checkShapes()...)
	}
	return st, diags
}

// pluginDiagnostic places a plugin's diagnostic on the attribute it names,
// or on the stage block.
func pluginDiagnostic(s *pipeline.Stage, d sdk.Problem) *hcl.Diagnostic {
	sev := hcl.DiagError
	if d.Severity == sdk.SeverityWarning {
		sev = hcl.DiagWarning
	}
	rng := s.DeclRange
	if len(d.Path) > 0 {
		if a, ok := s.Attrs[d.Path[0]]; ok {
			rng = a.Expr.Range()
		}
	}
	detail := d.Detail
	if detail == "" {
		detail = d.Summary
	}
	return &hcl.Diagnostic{Severity: sev, Summary: d.Summary, Detail: fmt.Sprintf("Stage %q (plugin %s): %s", s.Name, s.Plugin, detail), Subject: rng.Ptr()}
}

// checkShapes compares the per-sample shapes the train roles declare: the
// data stage's "sample", the sampler's "sample" and the energy's "input".
func (st *Stages) checkShapes() hcl.Diagnostics {
	t := st.P.Train
	energy := st.Shapes[t.Energy]["input"]
	var diags hcl.Diagnostics
	for _, role := range []struct{ name, stage string }{{"data", t.Data}, {"sampler", t.Sampler}} {
		got, ok := st.Shapes[role.stage]["sample"]
		if !ok || energy == nil {
			continue
		}
		if !slices.Equal(got, energy) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Shapes disagree between stages",
				Detail: fmt.Sprintf("Stage %q (train.%s) produces samples of shape %s, but energy stage %q takes inputs of shape %s.",
					role.stage, role.name, sdk.FormatShape(got), t.Energy, sdk.FormatShape(energy)),
				Subject: st.P.Stage(role.stage).DeclRange.Ptr()})
		}
	}
	return diags
}

// Close stops every plugin.
func (st *Stages) Close() { st.Host.Close() }
