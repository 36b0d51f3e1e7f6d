package pipeline

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Describer returns a plugin's info and schema, or an error saying why the
// plugin cannot be used (not found, changed since it was pinned, ...).
type Describer func(plugin string) (sdk.Info, sdk.Schema, error)

// Bind decodes every stage block against its plugin's schema, checks the
// references between stages (existence, kind, cycles) and the train block's
// roles, and orders the stages. Every problem is reported.
func (p *Pipeline) Bind(describe Describer) hcl.Diagnostics {
	var diags hcl.Diagnostics
	described := map[string]bool{}
	for _, s := range p.Stages {
		if s.Plugin == "" {
			continue
		}
		info, schema, err := describe(s.Plugin)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Plugin not available",
				Detail: fmt.Sprintf("Stage %q: %v", s.Name, err), Subject: s.PluginRange.Ptr()})
			continue
		}
		if req, ok := p.Plugins[s.Plugin]; ok && req.Version != "" && !versionMatches(info.Version, req.Version) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Plugin version mismatch",
				Detail: fmt.Sprintf("Stage %q: plugin %q is version %s; the pipeline requires %s.", s.Name, s.Plugin, info.Version, req.Version), Subject: req.DeclRange.Ptr()})
		}
		s.Kind, s.Schema = info.Kind, schema
		described[s.Name] = true
	}
	for _, s := range p.Stages {
		if described[s.Name] {
			diags = append(diags, p.bindStage(s)...)
		}
	}
	diags = append(diags, p.checkTrain()...)
	if diags.HasErrors() {
		return diags
	}
	names := p.StageNames()
	deps := map[string][]string{}
	for _, s := range p.Stages {
		attrs := slices.Sorted(maps.Keys(s.Refs))
		for _, a := range attrs {
			deps[s.Name] = append(deps[s.Name], s.Refs[a])
		}
	}
	order, cycle := topoSort(names, deps)
	if cycle != nil {
		return append(diags, p.cycleDiagnostics(cycle)...)
	}
	for _, n := range order {
		p.Order = append(p.Order, p.Stage(n))
	}
	return diags
}

// cycleDiagnostics reports a reference cycle, naming every member and
// pointing at each reference that closes it.
func (p *Pipeline) cycleDiagnostics(cycle []string) hcl.Diagnostics {
	path := "stage." + strings.Join(cycle, " -> stage.")
	var diags hcl.Diagnostics
	for i := 0; i+1 < len(cycle); i++ {
		s := p.Stage(cycle[i])
		for attr, target := range s.Refs {
			if target == cycle[i+1] {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cycle between stages",
					Detail:  fmt.Sprintf("Stage %q refers to stage %q through %s, closing the cycle %s.", s.Name, target, attr, path),
					Subject: s.Attrs[attr].Expr.Range().Ptr()})
			}
		}
	}
	return diags
}

func (p *Pipeline) bindStage(s *Stage) hcl.Diagnostics {
	var diags hcl.Diagnostics
	s.Values, s.Refs = map[string]json.RawMessage{}, map[string]string{}
	names := slices.Sorted(maps.Keys(s.Attrs))
	for _, n := range names {
		a := s.Attrs[n]
		attr, ok := s.Schema.Lookup(n)
		if !ok {
			var known []string
			for _, x := range s.Schema.Attributes {
				known = append(known, x.Name)
			}
			detail := fmt.Sprintf("Plugin %q has no attribute named %q.", s.Plugin, n)
			if sug := suggest(n, known); sug != "" {
				detail += fmt.Sprintf(" Did you mean %q?", sug)
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsupported argument", Detail: detail, Subject: a.NameRange.Ptr()})
			continue
		}
		if kind := attr.Type.RefKind(); kind != "" {
			diags = append(diags, p.bindRef(s, a, kind)...)
			continue
		}
		misplaced := false
		for _, tr := range a.Expr.Variables() {
			if tr.RootName() == "stage" {
				misplaced = true
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Stage reference not allowed here",
					Detail: fmt.Sprintf("Attribute %q of plugin %q takes a %s, not a stage.", n, s.Plugin, attr.Type), Subject: tr.SourceRange().Ptr()})
			}
		}
		if misplaced {
			continue
		}
		v, more := a.Expr.Value(p.ctx)
		diags = append(diags, more...)
		if more.HasErrors() || !v.IsWhollyKnown() {
			// Unknown: it depends on a variable whose own error is
			// reported already.
			continue
		}
		raw, err := toJSON(v, attr)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Incorrect attribute value type",
				Detail: fmt.Sprintf("Inappropriate value for attribute %q: %v.", n, err), Subject: a.Expr.Range().Ptr()})
			continue
		}
		if d := p.checkBounds(s, a, attr, v); d != nil {
			diags = append(diags, d)
			continue
		}
		s.Values[n] = raw
	}
	for _, attr := range s.Schema.Attributes {
		if _, ok := s.Attrs[attr.Name]; !ok && attr.Required {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing required argument",
				Detail: fmt.Sprintf("The argument %q is required by plugin %q (%s), but no definition was found.", attr.Name, s.Plugin, attr.Doc), Subject: s.DeclRange.Ptr()})
		}
	}
	return diags
}

func (p *Pipeline) bindRef(s *Stage, a *hcl.Attribute, kind sdk.Kind) hcl.Diagnostics {
	target, diags := stageRef(a.Expr)
	if diags.HasErrors() {
		return diags
	}
	diags = append(diags, p.checkRef(target, kind, fmt.Sprintf("Attribute %q of stage %q", a.Name, s.Name), a.Expr.Range())...)
	if target == s.Name {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cycle between stages",
			Detail: fmt.Sprintf("Stage %q refers to itself through %s.", s.Name, a.Name), Subject: a.Expr.Range().Ptr()})
	}
	if !diags.HasErrors() {
		s.Refs[a.Name] = target
		s.Values[a.Name], _ = json.Marshal(target)
	}
	return diags
}

// checkRef checks that target names a stage of the wanted kind.
func (p *Pipeline) checkRef(target string, kind sdk.Kind, what string, rng hcl.Range) hcl.Diagnostics {
	t := p.Stage(target)
	if t == nil {
		detail := fmt.Sprintf("%s refers to stage %q, which is not declared.", what, target)
		if sug := suggest(target, p.StageNames()); sug != "" {
			detail += fmt.Sprintf(" Did you mean %q?", sug)
		}
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Reference to undeclared stage", Detail: detail, Subject: rng.Ptr()}}
	}
	if t.Kind != "" && t.Kind != kind {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Wrong kind of stage",
			Detail:  fmt.Sprintf("%s expects %s stage, but stage %q is %s stage (plugin %q).", what, article(kind), target, article(t.Kind), t.Plugin),
			Subject: rng.Ptr()}}
	}
	return nil
}

func (p *Pipeline) checkTrain() hcl.Diagnostics {
	t := p.Train
	if t == nil {
		return nil
	}
	var diags hcl.Diagnostics
	for _, role := range []struct {
		name, target string
		kind         sdk.Kind
	}{{"energy", t.Energy, sdk.KindEnergy}, {"sampler", t.Sampler, sdk.KindSampler}, {"data", t.Data, sdk.KindData}} {
		if role.target != "" {
			diags = append(diags, p.checkRef(role.target, role.kind, "train."+role.name, t.roleRanges[role.name])...)
		}
	}
	for i, d := range t.Diagnostics {
		if d != "" {
			key := fmt.Sprintf("diagnostics[%d]", i)
			diags = append(diags, p.checkRef(d, sdk.KindDiagnostics, "train."+key, t.roleRanges[key])...)
		}
	}
	return diags
}

func article(k sdk.Kind) string {
	if k == sdk.KindEnergy {
		return "an energy"
	}
	return "a " + string(k)
}

// toJSON converts an attribute value to the schema's type and encodes it.
func toJSON(v cty.Value, attr sdk.Attribute) (json.RawMessage, error) {
	var ty cty.Type
	switch attr.Type {
	case sdk.TypeString:
		ty = cty.String
	case sdk.TypeNumber, sdk.TypeInt:
		ty = cty.Number
	case sdk.TypeBool:
		ty = cty.Bool
	case sdk.TypeListNumber:
		ty = cty.List(cty.Number)
	case sdk.TypeListString:
		ty = cty.List(cty.String)
	default:
		return nil, fmt.Errorf("the plugin declares unknown type %q", attr.Type)
	}
	if v.IsNull() {
		return nil, fmt.Errorf("a %s is required, not null", attr.Type)
	}
	cv, err := convert.Convert(v, ty)
	if err != nil {
		return nil, fmt.Errorf("%s required", attr.Type)
	}
	if attr.Type == sdk.TypeInt {
		f, _ := cv.AsBigFloat().Float64()
		if f != math.Trunc(f) {
			return nil, fmt.Errorf("a whole number is required, got %s", sdk.FormatNumber(f))
		}
		if math.Abs(f) > sdk.MaxWhole {
			return nil, fmt.Errorf("a whole number of magnitude at most 2^53 is required, got %s", sdk.FormatNumber(f))
		}
	}
	if len(attr.Enum) > 0 && !contains(attr.Enum, cv.AsString()) {
		return nil, fmt.Errorf("must be one of %s, got %q", quoteList(attr.Enum), cv.AsString())
	}
	return ctyjson.Marshal(cv, ty)
}

// checkBounds checks a converted number (or each element of a list of
// numbers) against the attribute's bounds and returns a diagnostic for the
// first value outside them, pointing at that value in the file, or nil.
func (p *Pipeline) checkBounds(s *Stage, a *hcl.Attribute, attr sdk.Attribute, v cty.Value) *hcl.Diagnostic {
	if !attr.Bounds.IsSet() {
		return nil
	}
	var vals []cty.Value
	switch attr.Type {
	case sdk.TypeNumber, sdk.TypeInt:
		vals = []cty.Value{v}
	case sdk.TypeListNumber:
		if !v.CanIterateElements() {
			return nil
		}
		vals = v.AsValueSlice()
	default:
		return nil
	}
	for i, x := range vals {
		if x.IsNull() || !x.IsKnown() || x.Type() != cty.Number {
			continue
		}
		f, _ := x.AsBigFloat().Float64()
		err := attr.Bounds.Check(f)
		if err == nil {
			continue
		}
		name, each, expr := a.Name, "", a.Expr
		if attr.Type == sdk.TypeListNumber {
			name, each = fmt.Sprintf("%s[%d]", a.Name, i), " for each element"
			if t, ok := a.Expr.(*hclsyntax.TupleConsExpr); ok && i < len(t.Exprs) {
				expr = t.Exprs[i]
			}
		}
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Value out of range",
			Detail:  fmt.Sprintf("%s = %s %v of %s's %s (range %s%s).", name, sdk.FormatNumber(f), err, s.Plugin, a.Name, attr.Bounds, each),
			Subject: expr.Range().Ptr(), Expression: expr, EvalContext: p.ctx}
	}
	return nil
}

// suggest returns the closest of candidates to s, if it is close enough.
func suggest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := levenshtein.Distance(s, c, nil); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// versionMatches reports whether version satisfies the requirement: equal, or
// a prefix at a dot boundary ("0.1" matches "0.1.3").
func versionMatches(version, req string) bool {
	return version == req || strings.HasPrefix(version, req+".")
}
