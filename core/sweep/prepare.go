package sweep

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/core/pipeline"
	"github.com/ebmflow/ebmflow/core/runner"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
)

// LoadOptions say where a plan comes from besides the pipeline file.
type LoadOptions struct {
	// SweepFile holds the sweep (and slurm) blocks instead of the pipeline.
	SweepFile string
	// Vars are -var settings for every point, beneath each point's own.
	Vars map[string]string
}

// Loaded is a plan and the pipeline text its points run.
type Loaded struct {
	Plan Plan
	// Source is the pipeline without its sweep and slurm blocks.
	Source []byte
	// Files are the parsed sources, for diagnostics' snippets.
	Files map[string]*hcl.File
}

// Load reads the plan of the sweep over the pipeline at path and checks
// every point's variables against the pipeline (declared, of the right
// type, passing their validations). It does not start plugins.
func Load(path string, o LoadOptions) (*Loaded, hcl.Diagnostics) {
	files := hclparse.NewParser()
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read pipeline", Detail: err.Error()}}
	}
	files.ParseHCL(src, path)
	spec, rest, diags := Split(path, src)
	l := &Loaded{Source: rest, Files: files.Files()}
	if diags.HasErrors() {
		return l, diags
	}
	if o.SweepFile != "" {
		if spec != nil {
			return l, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Two sweep blocks",
				Detail: fmt.Sprintf("The pipeline has a sweep block and -sweep %s was given; use one.", o.SweepFile), Subject: spec.DeclRange.Ptr()})
		}
		ssrc, err := os.ReadFile(o.SweepFile)
		if err != nil {
			return l, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read sweep file", Detail: err.Error()})
		}
		files.ParseHCL(ssrc, o.SweepFile)
		var more hcl.Diagnostics
		var leftover []byte
		spec, leftover, more = Split(o.SweepFile, ssrc)
		diags = append(diags, more...)
		if len(strings.TrimSpace(stripComments(string(leftover)))) > 0 && !more.HasErrors() {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unexpected content in sweep file",
				Detail: "A sweep file holds only a sweep block and optionally a slurm block.", Subject: &hcl.Range{Filename: o.SweepFile, Start: hcl.InitialPos, End: hcl.InitialPos}})
		}
		l.Files = files.Files()
	}
	if diags.HasErrors() {
		return l, diags
	}
	if spec == nil {
		return l, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No sweep block",
			Detail:  "Add a sweep block (grid and/or points) to the pipeline, or give one in a separate file with -sweep FILE.",
			Subject: &hcl.Range{Filename: path, Start: hcl.InitialPos, End: hcl.InitialPos}})
	}
	if spec.Name == "" {
		spec.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		if !validName(spec.Name) {
			spec.Name = "sweep"
		}
	}
	base := map[string]cty.Value{}
	for k, v := range o.Vars {
		base[k] = ParseVar(v)
	}
	pts, vars := spec.Expand(base)
	abs, _ := filepath.Abs(path)
	l.Plan = Plan{Name: spec.Name, Pipeline: abs, Variables: vars, Points: pts, Parallel: spec.Parallel, Slurm: spec.Slurm}
	if o.SweepFile != "" {
		l.Plan.SweepFile, _ = filepath.Abs(o.SweepFile)
	}
	for _, pt := range pts {
		_, more := pipeline.ParseSource(path, l.Source, pointOptions(pt))
		for _, d := range more {
			d.Summary = fmt.Sprintf("Point %d (%s): %s", pt.Index, pt.Name, d.Summary)
		}
		diags = append(diags, more...)
	}
	return l, diags
}

// pointOptions are the pipeline options of a point: its variables' values,
// over the pipeline's defaults and the environment.
func pointOptions(pt Point) pipeline.Options {
	return pipeline.Options{Values: pt.Vars, ValuesSource: fmt.Sprintf("sweep point %s", pt.Name)}
}

// Create makes the sweep folder dir for the loaded plan: pipeline.hcl, the
// var files, the lock file (copied from beside the pipeline, then every
// plugin the points use pinned once, so points never race to write it), and
// a plugins link to the pipeline's plugins/ folder when there is one. Every
// point's pipeline is bound against its plugins' schemas first, so a typo
// fails here rather than in N jobs.
func Create(ctx context.Context, dir string, l *Loaded, executor, ebmflow string) (*Sweep, hcl.Diagnostics) {
	fail := func(summary string, err error) (*Sweep, hcl.Diagnostics) {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: err.Error()}}
	}
	if _, err := os.Stat(filepath.Join(dir, RecordFile)); err == nil {
		return fail("Sweep folder exists", fmt.Errorf("%s already holds a sweep; use sweep status, retry or a new -out folder", dir))
	}
	for _, sub := range []string{"runs", "logs", "vars", "status"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return fail("Cannot create sweep folder", err)
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fail("Cannot create sweep folder", err)
	}
	s := &Sweep{Dir: abs, Created: time.Now().UTC(), Plan: l.Plan, Executor: executor, Ebmflow: ebmflow}
	pdir := filepath.Dir(l.Plan.Pipeline)
	if err := os.WriteFile(s.PipelinePath(), l.Source, 0o644); err != nil {
		return fail("Cannot write pipeline", err)
	}
	if err := copyFile(filepath.Join(pdir, host.LockFileName), filepath.Join(abs, host.LockFileName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fail("Cannot copy lock file", err)
	}
	if fi, err := os.Stat(filepath.Join(pdir, "plugins")); err == nil && fi.IsDir() {
		if err := os.Symlink(filepath.Join(pdir, "plugins"), filepath.Join(abs, "plugins")); err != nil && !errors.Is(err, os.ErrExist) {
			return fail("Cannot link plugins folder", err)
		}
	}
	var diags hcl.Diagnostics
	res, err := host.NewResolver(ctx, abs, false)
	if err != nil {
		return fail("Invalid lock file", err)
	}
	for _, pt := range s.Plan.Points {
		if err := os.WriteFile(s.VarsPath(pt), pt.VarFile(), 0o644); err != nil {
			return fail("Cannot write var file", err)
		}
		_, _, more := runner.Load(ctx, s.PipelinePath(), runner.LoadOptions{Source: l.Source, Options: pointOptions(pt), Resolver: res})
		for _, d := range more {
			d.Summary = fmt.Sprintf("Point %d (%s): %s", pt.Index, pt.Name, d.Summary)
		}
		diags = append(diags, more...)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	if err := res.Commit(); err != nil {
		return fail("Cannot write lock file", err)
	}
	if err := s.Save(); err != nil {
		return fail("Cannot write sweep record", err)
	}
	return s, diags
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// stripComments drops # and // comment lines and /* */ blocks, to see
// whether anything but blocks was left in a sweep file.
func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "#") || strings.HasPrefix(t, "//") {
			continue
		}
		b.WriteString(t)
	}
	out := b.String()
	for {
		i := strings.Index(out, "/*")
		if i < 0 {
			return out
		}
		j := strings.Index(out[i:], "*/")
		if j < 0 {
			return out[:i]
		}
		out = out[:i] + out[i+j+2:]
	}
}
