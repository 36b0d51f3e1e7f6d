package sweep

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// DefaultParallel is how many points run at once when neither the sweep
// block nor -parallel says.
const DefaultParallel = 2

// Spec is a sweep block and a slurm block, as read from HCL.
type Spec struct {
	// Name names the sweep (its folder, its Slurm job); default the
	// pipeline file's base name.
	Name string
	// Parallel is how many points run at once (Slurm: the array's %K).
	Parallel int
	// Grid lists each variable's values in file order; every combination
	// is a point, the last variable varying fastest.
	Grid []Axis
	// Points are explicit points, after the grid's.
	Points []map[string]cty.Value
	Slurm  SlurmSpec
	// DeclRange is the sweep block's position.
	DeclRange hcl.Range
}

// Axis is one grid variable and its values.
type Axis struct {
	Name   string
	Values []cty.Value
}

// SlurmSpec is the job a Slurm task asks for. Zero values are left to the
// cluster's defaults.
type SlurmSpec struct {
	Partition string   `hcl:"partition,optional" json:"partition,omitempty"`
	Time      string   `hcl:"time,optional" json:"time,omitempty"`
	CPUs      int      `hcl:"cpus,optional" json:"cpus,omitempty"`
	Memory    string   `hcl:"memory,optional" json:"memory,omitempty"`
	GPUs      int      `hcl:"gpus,optional" json:"gpus,omitempty"`
	Account   string   `hcl:"account,optional" json:"account,omitempty"`
	Setup     []string `hcl:"setup,optional" json:"setup,omitempty"`
	Options   []string `hcl:"options,optional" json:"options,omitempty"`
}

var splitSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "sweep"}, {Type: "slurm"}}}

var sweepSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "name"}, {Name: "parallel"}, {Name: "points"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "grid"}},
}

// Split reads the sweep and slurm blocks of src (a pipeline or a sweep
// file) and returns src with those blocks blanked out: every character of
// them but newlines becomes a space, so the rest keeps its lines and
// columns for the pipeline parser's messages. A plugin block's relative
// source is made absolute (relative to path's folder), since the points run
// a copy in the sweep folder. spec is nil when src has no sweep block.
func Split(path string, src []byte) (spec *Spec, rest []byte, diags hcl.Diagnostics) {
	parser := hclparse.NewParser()
	f, diags := parser.ParseHCL(src, path)
	if diags.HasErrors() {
		return nil, nil, diags
	}
	content, _, more := f.Body.PartialContent(splitSchema)
	diags = append(diags, more...)
	rest = append([]byte(nil), src...)
	var sweeps, slurms []*hcl.Block
	for _, b := range content.Blocks {
		blank(rest, b)
		if b.Type == "sweep" {
			sweeps = append(sweeps, b)
		} else {
			slurms = append(slurms, b)
		}
	}
	rest = absSources(path, src, rest, f.Body)
	for _, list := range [][]*hcl.Block{sweeps, slurms} {
		for _, extra := range list[min(1, len(list)):] {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate " + extra.Type + " block",
				Detail: fmt.Sprintf("A %s block was already declared at %s.", extra.Type, list[0].DefRange), Subject: extra.DefRange.Ptr()})
		}
	}
	if len(sweeps) == 0 {
		if len(slurms) > 0 {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Slurm block without a sweep block",
				Detail: "A slurm block describes the jobs of a sweep; add a sweep block beside it.", Subject: slurms[0].DefRange.Ptr()})
		}
		return nil, rest, diags
	}
	spec = &Spec{Parallel: DefaultParallel, DeclRange: sweeps[0].DefRange}
	diags = append(diags, spec.decode(sweeps[0])...)
	if len(slurms) > 0 {
		diags = append(diags, gohcl.DecodeBody(slurms[0].Body, nil, &spec.Slurm)...)
	}
	return spec, rest, diags
}

func blank(buf []byte, b *hcl.Block) {
	rng := b.DefRange
	if sb, ok := b.Body.(*hclsyntax.Body); ok {
		rng = hcl.RangeBetween(b.DefRange, sb.SrcRange)
	}
	for i := rng.Start.Byte; i < rng.End.Byte && i < len(buf); i++ {
		if buf[i] != '\n' && buf[i] != '\r' {
			buf[i] = ' '
		}
	}
}

// absSources rewrites the relative string literal of each plugin block's
// source attribute as an absolute path. Edits go from the end of the text
// backwards so earlier offsets stay valid.
func absSources(path string, src, rest []byte, body hcl.Body) []byte {
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		return rest
	}
	dir, _ := filepath.Abs(filepath.Dir(path))
	type edit struct {
		rng  hcl.Range
		text string
	}
	var edits []edit
	for _, b := range sb.Blocks {
		if b.Type != "plugin" {
			continue
		}
		a, ok := b.Body.Attributes["source"]
		if !ok {
			continue
		}
		v, d := a.Expr.Value(nil)
		if d.HasErrors() || v.Type() != cty.String || v.IsNull() {
			continue
		}
		if s := v.AsString(); s != "" && !filepath.IsAbs(s) {
			edits = append(edits, edit{a.Expr.Range(), strconv.Quote(filepath.Join(dir, s))})
		}
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].rng.Start.Byte > edits[j].rng.Start.Byte })
	for _, e := range edits {
		rest = append(rest[:e.rng.Start.Byte:e.rng.Start.Byte], append([]byte(e.text), rest[e.rng.End.Byte:]...)...)
	}
	return rest
}

func (s *Spec) decode(b *hcl.Block) hcl.Diagnostics {
	c, diags := b.Body.Content(sweepSchema)
	if a, ok := c.Attributes["name"]; ok {
		diags = append(diags, gohcl.DecodeExpression(a.Expr, nil, &s.Name)...)
		if s.Name != "" && !validName(s.Name) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid sweep name",
				Detail: "A sweep name may hold letters, digits, '.', '_' and '-'.", Subject: a.Expr.Range().Ptr()})
		}
	}
	if a, ok := c.Attributes["parallel"]; ok {
		diags = append(diags, gohcl.DecodeExpression(a.Expr, nil, &s.Parallel)...)
		if s.Parallel < 1 {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid parallel",
				Detail: "parallel must be at least 1.", Subject: a.Expr.Range().Ptr()})
		}
	}
	for i, g := range c.Blocks {
		if i > 0 {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate grid block",
				Detail: "A sweep has one grid block; list every variable in it.", Subject: g.DefRange.Ptr()})
			continue
		}
		diags = append(diags, s.decodeGrid(g)...)
	}
	if a, ok := c.Attributes["points"]; ok {
		diags = append(diags, s.decodePoints(a)...)
	}
	if len(s.Grid) == 0 && len(s.Points) == 0 && !diags.HasErrors() {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Empty sweep",
			Detail: "A sweep block needs a grid block, a points list, or both.", Subject: b.DefRange.Ptr()})
	}
	return diags
}

func (s *Spec) decodeGrid(g *hcl.Block) hcl.Diagnostics {
	attrs, diags := g.Body.JustAttributes()
	list := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Range.Start.Byte < list[j].Range.Start.Byte })
	for _, a := range list {
		v, more := a.Expr.Value(nil)
		diags = append(diags, more...)
		if more.HasErrors() {
			continue
		}
		if !(v.Type().IsTupleType() || v.Type().IsListType()) || v.IsNull() || v.LengthInt() == 0 {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid grid values",
				Detail: fmt.Sprintf("Grid variable %q needs a non-empty list of values, like [0.01, 0.1].", a.Name), Subject: a.Expr.Range().Ptr()})
			continue
		}
		ax := Axis{Name: a.Name}
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			ax.Values = append(ax.Values, e)
		}
		s.Grid = append(s.Grid, ax)
	}
	return diags
}

func (s *Spec) decodePoints(a *hcl.Attribute) hcl.Diagnostics {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		return diags
	}
	bad := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid points",
		Detail: "points is a list of objects of variable values, like [{ epsilon = 0.5, lr = 0.3 }].", Subject: a.Expr.Range().Ptr()}
	if !(v.Type().IsTupleType() || v.Type().IsListType()) || v.IsNull() {
		return append(diags, bad)
	}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if !(e.Type().IsObjectType() || e.Type().IsMapType()) || e.IsNull() || e.LengthInt() == 0 {
			return append(diags, bad)
		}
		pt := map[string]cty.Value{}
		for pi := e.ElementIterator(); pi.Next(); {
			k, pv := pi.Element()
			pt[k.AsString()] = pv
		}
		s.Points = append(s.Points, pt)
	}
	return diags
}

func validName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-", r)) {
			return false
		}
	}
	return s != ""
}
