package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/ebmflow/ebmflow/core/schedule"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// VarEnvPrefix prefixes environment variables that set pipeline variables:
// EBMFLOW_VAR_epsilon=0.01 sets var.epsilon.
const VarEnvPrefix = "EBMFLOW_VAR_"

// Options are what the command line contributes to loading a pipeline.
type Options struct {
	// Vars are -var NAME=VALUE settings, highest precedence.
	Vars map[string]string
	// VarFiles are -var-file FILE paths (HCL files of NAME = VALUE), applied
	// in order after the environment and before Vars.
	VarFiles []string
	// Values are variable values as HCL expressions by name (a run
	// manifest's variables, a sweep point's), applied after VarFiles and
	// before Vars, as a variable file would be, without writing one.
	Values map[string]string
	// ValuesSource says where Values came from, in diagnostics and in
	// VariableSources ("values" if empty).
	ValuesSource string
	// Env is the environment searched for EBMFLOW_VAR_NAME (os.Environ() if
	// nil).
	Env []string
}

var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "plugin", LabelNames: []string{"name"}},
		{Type: "stage", LabelNames: []string{"name"}},
		{Type: "schedule", LabelNames: []string{"name"}},
		{Type: "train"},
	},
}

// Parse reads the pipeline at path and resolves its variables and locals.
// It reports every problem it finds; the returned pipeline is usable only
// when the diagnostics have no errors.
func Parse(path string, opts Options) (*Pipeline, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read pipeline", Detail: err.Error()}}
	}
	return ParseSource(path, src, opts)
}

// ParseSource is Parse of source text that was read from path.
func ParseSource(path string, src []byte, opts Options) (*Pipeline, hcl.Diagnostics) {
	sum := sha256.Sum256(src)
	p := &Pipeline{Path: path, Source: src, Hash: hex.EncodeToString(sum[:]), Plugins: map[string]*PluginReq{}}
	parser := hclparse.NewParser()
	defer func() { p.Files = parser.Files() }()
	f, diags := parser.ParseHCL(src, path)
	if diags.HasErrors() {
		return p, diags
	}
	content, more := f.Body.Content(rootSchema)
	diags = append(diags, more...)
	var vars, locals, plugins, stages, schedules, trains []*hcl.Block
	for _, b := range content.Blocks {
		switch b.Type {
		case "variable":
			vars = append(vars, b)
		case "locals":
			locals = append(locals, b)
		case "plugin":
			plugins = append(plugins, b)
		case "stage":
			stages = append(stages, b)
		case "schedule":
			schedules = append(schedules, b)
		case "train":
			trains = append(trains, b)
		}
	}
	if opts.Env == nil {
		opts.Env = os.Environ()
	}
	diags = append(diags, p.resolveVariables(parser, vars, opts)...)
	p.ctx = &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(p.Variables)},
		Functions: Functions(),
	}
	diags = append(diags, p.resolveLocals(locals)...)
	p.ctx.Variables["local"] = cty.ObjectVal(p.Locals)
	diags = append(diags, p.decodePlugins(plugins)...)
	diags = append(diags, p.decodeStages(stages)...)
	diags = append(diags, p.decodeSchedules(schedules)...)
	if p.Schedule == nil {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing schedule block",
			Detail: fmt.Sprintf("A pipeline needs a schedule \"lr\" block giving the learning rate, with at least type (%s) and initial.", strings.Join(schedule.Kinds, ", ")), Subject: endOfFile(f, path).Ptr()})
	}
	switch len(trains) {
	case 0:
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing train block",
			Detail: "A pipeline needs one train block naming its energy, sampler and data stages.", Subject: endOfFile(f, path).Ptr()})
	default:
		for _, extra := range trains[1:] {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate train block",
				Detail: fmt.Sprintf("A train block was already declared at %s.", trains[0].DefRange), Subject: extra.DefRange.Ptr()})
		}
		diags = append(diags, p.decodeTrain(trains[0])...)
	}
	return p, diags
}

// endOfFile is the empty range at the end of the file, where a missing
// block would go.
func endOfFile(f *hcl.File, path string) hcl.Range {
	end := hcl.InitialPos
	if f != nil {
		if b, ok := f.Body.(*hclsyntax.Body); ok {
			end = b.SrcRange.End
		}
	}
	return hcl.Range{Filename: path, Start: end, End: end}
}

func (p *Pipeline) decodePlugins(blocks []*hcl.Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	schema := &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "source"}, {Name: "version"}}}
	for _, b := range blocks {
		name := b.Labels[0]
		if prev, ok := p.Plugins[name]; ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate plugin block",
				Detail: fmt.Sprintf("Plugin %q was already required at %s.", name, prev.DeclRange), Subject: b.DefRange.Ptr()})
			continue
		}
		c, more := b.Body.Content(schema)
		diags = append(diags, more...)
		req := &PluginReq{Name: name, DeclRange: b.DefRange}
		for attr, dst := range map[string]*string{"source": &req.Source, "version": &req.Version} {
			if a, ok := c.Attributes[attr]; ok {
				diags = append(diags, eval(p, a, dst, 0)...)
			}
		}
		p.Plugins[name] = req
	}
	return diags
}

func (p *Pipeline) decodeStages(blocks []*hcl.Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	schema := &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "plugin", Required: true}, {Name: "timeout"}}}
	seen := map[string]*Stage{}
	for _, b := range blocks {
		name := b.Labels[0]
		if !hclsyntax.ValidIdentifier(name) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid stage name",
				Detail: "A stage name must be a valid identifier (letters, digits, underscores and dashes, starting with a letter).", Subject: b.LabelRanges[0].Ptr()})
			continue
		}
		if prev, ok := seen[name]; ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate stage",
				Detail: fmt.Sprintf("Stage %q was already declared at %s.", name, prev.DeclRange), Subject: b.DefRange.Ptr()})
			continue
		}
		c, remain, more := b.Body.PartialContent(schema)
		diags = append(diags, more...)
		s := &Stage{Name: name, DeclRange: b.DefRange}
		if a, ok := c.Attributes["plugin"]; ok {
			s.PluginRange = a.Expr.Range()
			diags = append(diags, eval(p, a, &s.Plugin, 0)...)
		}
		if a, ok := c.Attributes["timeout"]; ok {
			diags = append(diags, eval(p, a, &s.Timeout, 0)...)
		}
		attrs, more := remain.JustAttributes()
		diags = append(diags, more...)
		s.Attrs = attrs
		seen[name] = s
		p.Stages = append(p.Stages, s)
	}
	return diags
}

// eval evaluates a with the pipeline's context into dst: a string, a
// number no smaller than min, or a whole number no smaller than min. Every
// attribute the core decodes itself goes through it, so a wrong type or
// range reads the same everywhere.
func eval[T string | float64 | int](p *Pipeline, a *hcl.Attribute, dst *T, min float64) hcl.Diagnostics {
	v, diags := a.Expr.Value(p.ctx)
	if diags.HasErrors() || !v.IsWhollyKnown() {
		return diags // unknown: from a variable whose error is reported
	}
	want, what := cty.Number, "a number"
	if _, ok := any(dst).(*string); ok {
		want, what = cty.String, "a string"
	}
	if v.IsNull() || !v.IsKnown() || !v.Type().Equals(want) {
		return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Incorrect attribute value type",
			Detail: fmt.Sprintf("Attribute %q must be %s.", a.Name, what), Subject: a.Expr.Range().Ptr()})
	}
	invalid := func(format string, args ...any) hcl.Diagnostics {
		return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value",
			Detail: fmt.Sprintf(format, args...), Subject: a.Expr.Range().Ptr()})
	}
	switch d := any(dst).(type) {
	case *string:
		*d = v.AsString()
		return diags
	case *float64, *int:
		f, _ := v.AsBigFloat().Float64()
		if f < min {
			return invalid("Attribute %q must be at least %g, got %g.", a.Name, min, f)
		}
		if i, ok := d.(*int); ok {
			if f != float64(int64(f)) {
				return invalid("Attribute %q must be a whole number, got %g.", a.Name, f)
			}
			*i = int(f)
		} else {
			*d.(*float64) = f
		}
	}
	return diags
}

// PluginSource returns the binary path a plugin block gives for the named
// plugin, or "" when discovery finds it.
func (p *Pipeline) PluginSource(name string) string {
	if req, ok := p.Plugins[name]; ok {
		return req.Source
	}
	return ""
}

// PluginNames returns the plugins the pipeline's stages name, sorted, without
// repeats.
func (p *Pipeline) PluginNames() []string {
	seen := map[string]bool{}
	var names []string
	for _, s := range p.Stages {
		if s.Plugin != "" && !seen[s.Plugin] {
			seen[s.Plugin] = true
			names = append(names, s.Plugin)
		}
	}
	sort.Strings(names)
	return names
}

// StageNames lists the stage names, for "did you mean" suggestions.
func (p *Pipeline) StageNames() []string {
	var names []string
	for _, s := range p.Stages {
		names = append(names, s.Name)
	}
	return names
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}
