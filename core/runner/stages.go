package runner

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/core/pipeline"
	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/hashicorp/hcl/v2"
)

// Resolver finds and checks a pipeline's plugin binaries.
type Resolver struct {
	Dir      string // the pipeline's folder
	LockPath string
	// Write pins unpinned plugins in the lock file (on first use).
	Write bool

	ctx   context.Context
	bins  map[string]host.Binary
	lock  *host.Lock
	dirty bool
}

// NewResolver returns a Resolver for the pipeline at path.
func NewResolver(ctx context.Context, p *pipeline.Pipeline, write bool) (*Resolver, error) {
	dir := filepath.Dir(p.Path)
	r := &Resolver{Dir: dir, LockPath: filepath.Join(dir, host.LockFileName), Write: write, ctx: ctx, bins: map[string]host.Binary{}}
	lock, diags := host.ReadLock(r.LockPath)
	if diags.HasErrors() {
		return nil, fmt.Errorf("lock file: %s", diags.Error())
	}
	r.lock = lock
	return r, nil
}

// Describe is a pipeline.Describer: it finds the plugin (a plugin block's
// source, or discovery), hashes it, checks the lock file and runs its
// describe command.
func (r *Resolver) Describe(name string, req *pipeline.PluginReq) (sdk.Info, sdk.Schema, error) {
	if b, ok := r.bins[name]; ok {
		return b.Description.Info, b.Description.Schema, nil
	}
	var path string
	var err error
	if req != nil && req.Source != "" {
		path = req.Source
		if !filepath.IsAbs(path) {
			path = filepath.Join(r.Dir, path)
		}
	} else if path, err = host.Find(name, r.Dir); err != nil {
		return sdk.Info{}, sdk.Schema{}, err
	}
	b := host.Binary{Name: name, Path: path}
	if b.SHA256, err = host.PluginSHA256(path); err != nil {
		return sdk.Info{}, sdk.Schema{}, err
	}
	pinned, err := r.lock.Check(b)
	if err != nil {
		return sdk.Info{}, sdk.Schema{}, err
	}
	if b.Description, err = host.DescribeBinary(r.ctx, path); err != nil {
		return sdk.Info{}, sdk.Schema{}, err
	}
	if b.Description.Info.Protocol != sdk.ProtocolVersion {
		return sdk.Info{}, sdk.Schema{}, fmt.Errorf("plugin %q (%s) speaks plugin protocol %d; this ebmflow speaks %d",
			name, path, b.Description.Info.Protocol, sdk.ProtocolVersion)
	}
	if !pinned {
		r.lock.Set(b)
		r.dirty = true
	}
	r.bins[name] = b
	return b.Description.Info, b.Description.Schema, nil
}

// Describer adapts Describe for pipeline.Bind.
func (r *Resolver) Describer(p *pipeline.Pipeline) pipeline.Describer {
	return func(name string) (sdk.Info, sdk.Schema, error) { return r.Describe(name, p.Plugins[name]) }
}

// Binary returns a resolved binary.
func (r *Resolver) Binary(name string) host.Binary { return r.bins[name] }

// Binaries returns every resolved binary.
func (r *Resolver) Binaries() map[string]host.Binary { return r.bins }

// Commit writes the lock file if plugins were pinned and Write is set.
func (r *Resolver) Commit() error {
	if !r.Write || !r.dirty {
		return nil
	}
	r.dirty = false
	return r.lock.Write()
}

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
func Launch(ctx context.Context, p *pipeline.Pipeline, r *Resolver, h *host.Host, runDir string) (*Stages, hcl.Diagnostics) {
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
		attrs := make([]string, 0, len(s.Refs))
		for a := range s.Refs {
			attrs = append(attrs, a)
		}
		slices.Sort(attrs)
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
func pluginDiagnostic(s *pipeline.Stage, d sdk.Diagnostic) *hcl.Diagnostic {
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
