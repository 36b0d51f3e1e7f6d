package pipeline

import (
	"fmt"
	"github.com/agext/levenshtein"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

type variableDecl struct {
	name        string
	typ         cty.Type
	def         cty.Value
	hasDefault  bool
	description string
	validations []*hcl.Block
	declRange   hcl.Range
}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "type"}, {Name: "default"}, {Name: "description"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "condition", Required: true}, {Name: "error_message", Required: true}},
}

// resolveVariables decides each variable's value: its default, overridden by
// EBMFLOW_VAR_NAME, then by each -var-file in order, then by -var. Values are
// converted to the declared type and checked by the validation blocks.
func (p *Pipeline) resolveVariables(parser *hclparse.Parser, blocks []*hcl.Block, opts Options) hcl.Diagnostics {
	var diags hcl.Diagnostics
	decls := map[string]*variableDecl{}
	var order []string
	for _, b := range blocks {
		name := b.Labels[0]
		if prev, ok := decls[name]; ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate variable",
				Detail: fmt.Sprintf("Variable %q was already declared at %s.", name, prev.declRange), Subject: b.DefRange.Ptr()})
			continue
		}
		d := &variableDecl{name: name, typ: cty.DynamicPseudoType, declRange: b.DefRange}
		c, more := b.Body.Content(variableSchema)
		diags = append(diags, more...)
		if a, ok := c.Attributes["type"]; ok {
			t, more := typeexpr.TypeConstraint(a.Expr)
			diags = append(diags, more...)
			if !more.HasErrors() {
				d.typ = t
			}
		}
		if a, ok := c.Attributes["description"]; ok {
			v, more := a.Expr.Value(nil)
			diags = append(diags, more...)
			if !more.HasErrors() && v.Type() == cty.String && !v.IsNull() {
				d.description = v.AsString()
			}
		}
		if a, ok := c.Attributes["default"]; ok {
			v, more := a.Expr.Value(nil)
			diags = append(diags, more...)
			if !more.HasErrors() {
				cv, err := convert.Convert(v, d.typ)
				if err != nil {
					diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid default value for variable",
						Detail: fmt.Sprintf("This default value is not compatible with the variable's type constraint: %s.", err), Subject: a.Expr.Range().Ptr()})
				} else {
					d.def, d.hasDefault = cv, true
				}
			}
		}
		d.validations = c.Blocks
		decls[name] = d
		order = append(order, name)
	}

	values := map[string]cty.Value{}
	sources := map[string]string{}
	// given holds the variables a value was given for that was invalid
	// (reported where it was given): they are not "missing" too.
	given := map[string]bool{}
	for _, name := range order {
		if d := decls[name]; d.hasDefault {
			values[name], sources[name] = d.def, "default"
		}
	}
	set := func(name, raw, source string, rng *hcl.Range) {
		d, ok := decls[name]
		if !ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Value for undeclared variable",
				Detail: fmt.Sprintf("%s sets variable %q, which the pipeline does not declare (declared: %s).", source, name, quoteList(order)), Subject: rng})
			return
		}
		v, more := parseVarValue(raw, d.typ, source)
		diags = append(diags, more...)
		if !more.HasErrors() {
			values[name], sources[name] = v, source
		} else {
			given[name] = true
		}
	}
	for _, kv := range opts.Env {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(k, VarEnvPrefix) {
			name := strings.TrimPrefix(k, VarEnvPrefix)
			if _, declared := decls[name]; declared {
				set(name, v, "environment variable "+k, nil)
			}
		}
	}
	for _, file := range opts.VarFiles {
		f, more := parser.ParseHCLFile(file)
		diags = append(diags, more...)
		if more.HasErrors() {
			continue
		}
		attrs, more := f.Body.JustAttributes()
		diags = append(diags, more...)
		names := slices.Sorted(maps.Keys(attrs))
		for _, n := range names {
			a := attrs[n]
			d, ok := decls[n]
			if !ok {
				set(n, "", "variable file "+file, a.NameRange.Ptr())
				continue
			}
			v, more := a.Expr.Value(nil)
			diags = append(diags, more...)
			if more.HasErrors() {
				given[n] = true
				continue
			}
			cv, err := convert.Convert(v, d.typ)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
					Detail: fmt.Sprintf("Variable %q: %s%s.", n, err, fieldHint(v, d.typ)), Subject: a.Expr.Range().Ptr()})
				given[n] = true
				continue
			}
			values[n], sources[n] = cv, "variable file "+file
		}
	}
	valuesSource := opts.ValuesSource
	if valuesSource == "" {
		valuesSource = "values"
	}
	for _, n := range slices.Sorted(maps.Keys(opts.Values)) {
		d, ok := decls[n]
		if !ok {
			set(n, "", valuesSource, nil)
			continue
		}
		cv, more := parseValue(opts.Values[n], d.typ, valuesSource+" "+n)
		diags = append(diags, more...)
		if !more.HasErrors() {
			values[n], sources[n] = cv, valuesSource
		} else {
			given[n] = true
		}
	}
	names := slices.Sorted(maps.Keys(opts.Vars))
	for _, n := range names {
		set(n, opts.Vars[n], "-var "+n, nil)
	}
	for _, name := range order {
		if _, ok := values[name]; !ok {
			d := decls[name]
			if given[name] {
				values[name] = cty.UnknownVal(d.typ) // its error is reported
				continue
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No value for required variable",
				Detail: fmt.Sprintf("Variable %q has no default; set it with -var %s=VALUE, a -var-file or %s%s.", name, name, VarEnvPrefix, name), Subject: d.declRange.Ptr()})
			values[name] = cty.UnknownVal(d.typ)
		}
	}
	p.Variables, p.VariableSources = values, sources
	// Validation blocks see only var.
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(values)}, Functions: Functions()}
	for _, name := range order {
		for _, vb := range decls[name].validations {
			diags = append(diags, checkValidation(ctx, name, vb)...)
		}
	}
	return diags
}

func checkValidation(ctx *hcl.EvalContext, name string, b *hcl.Block) hcl.Diagnostics {
	c, diags := b.Body.Content(validationSchema)
	if diags.HasErrors() {
		return diags
	}
	cond, more := c.Attributes["condition"].Expr.Value(ctx)
	diags = append(diags, more...)
	msg, more := c.Attributes["error_message"].Expr.Value(ctx)
	diags = append(diags, more...)
	if diags.HasErrors() || !cond.IsKnown() {
		return diags
	}
	if cond.Type() != cty.Bool || cond.IsNull() {
		return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid validation condition",
			Detail: "The condition must be a boolean.", Subject: c.Attributes["condition"].Expr.Range().Ptr()})
	}
	if cond.False() {
		text := "the value is not valid"
		if msg.Type() == cty.String && !msg.IsNull() {
			text = msg.AsString()
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
			Detail: fmt.Sprintf("Variable %q: %s", name, text), Subject: c.Attributes["condition"].Expr.Range().Ptr()})
	}
	return diags
}

// parseValue reads an HCL expression given as text, as a variable file's
// value, and converts it to typ.
func parseValue(raw string, typ cty.Type, source string) (cty.Value, hcl.Diagnostics) {
	bad := func(why string) (cty.Value, hcl.Diagnostics) {
		return cty.NilVal, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid value for variable",
			Detail: fmt.Sprintf("%s: %q %s.", source, raw, why)}}
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), source, hcl.InitialPos)
	if diags.HasErrors() {
		return bad(fmt.Sprintf("is not a value of type %s (%s)", typ.FriendlyName(), diags[0].Summary))
	}
	v, diags := expr.Value(nil)
	if diags.HasErrors() {
		// A bare word (-var steps=ten) reads as a variable reference.
		return bad(fmt.Sprintf("is not a value of type %s", typ.FriendlyName()))
	}
	cv, err := convert.Convert(v, typ)
	if err != nil {
		return bad(fmt.Sprintf("does not fit: %s%s", err, fieldHint(v, typ)))
	}
	return cv, nil
}

// fieldHint suggests the nearest field of an object type for a field of v
// it does not have ("did you mean eps?").
func fieldHint(v cty.Value, typ cty.Type) string {
	if !typ.IsObjectType() || !v.Type().IsObjectType() {
		return ""
	}
	var hints []string
	for given := range v.Type().AttributeTypes() {
		if typ.HasAttribute(given) {
			continue
		}
		best, dist := "", 3
		for want := range typ.AttributeTypes() {
			if d := levenshtein.Distance(given, want, nil); d < dist {
				best, dist = want, d
			}
		}
		if best != "" {
			hints = append(hints, fmt.Sprintf("%q is not a field of it; did you mean %q?", given, best))
		} else {
			hints = append(hints, fmt.Sprintf("%q is not a field of it", given))
		}
	}
	slices.Sort(hints)
	if len(hints) == 0 {
		return ""
	}
	return " (" + strings.Join(hints, "; ") + ")"
}

// parseVarValue reads a command-line or environment value: raw text for a
// string variable, an HCL expression otherwise (so -var eps=0.01 is a number
// and -var digits='[0, 1]' a list).
func parseVarValue(raw string, typ cty.Type, source string) (cty.Value, hcl.Diagnostics) {
	if typ == cty.String {
		return cty.StringVal(raw), nil
	}
	v, diags := parseValue(raw, typ, source)
	if diags.HasErrors() && typ == cty.DynamicPseudoType {
		return cty.StringVal(raw), nil
	}
	return v, diags
}

// resolveLocals evaluates locals in dependency order; a local that refers to
// an undeclared local, or locals that refer to each other in a cycle, are
// reported with every member named.
func (p *Pipeline) resolveLocals(blocks []*hcl.Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	attrs := map[string]*hcl.Attribute{}
	for _, b := range blocks {
		as, more := b.Body.JustAttributes()
		diags = append(diags, more...)
		for n, a := range as {
			if prev, ok := attrs[n]; ok {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate local value",
					Detail: fmt.Sprintf("Local %q was already defined at %s.", n, prev.NameRange), Subject: a.NameRange.Ptr()})
				continue
			}
			attrs[n] = a
		}
	}
	p.Locals = map[string]cty.Value{}
	deps := map[string][]string{}
	for n, a := range attrs {
		for _, tr := range a.Expr.Variables() {
			if tr.RootName() != "local" || len(tr) < 2 {
				continue
			}
			if step, ok := tr[1].(hcl.TraverseAttr); ok {
				if _, ok := attrs[step.Name]; !ok {
					diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Reference to undeclared local value",
						Detail: fmt.Sprintf("A local value named %q has not been declared.", step.Name), Subject: tr.SourceRange().Ptr()})
					continue
				}
				deps[n] = append(deps[n], step.Name)
			}
		}
	}
	if diags.HasErrors() {
		return diags
	}
	names := slices.Sorted(maps.Keys(attrs))
	order, cycle := topoSort(names, deps)
	if cycle != nil {
		return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cycle in local values",
			Detail: "These local values refer to each other: local." + strings.Join(cycle, " -> local.") + ".", Subject: attrs[cycle[0]].NameRange.Ptr()})
	}
	for _, n := range order {
		ctx := p.ctx.NewChild()
		ctx.Variables = map[string]cty.Value{"local": cty.ObjectVal(p.Locals)}
		v, more := attrs[n].Expr.Value(ctx)
		diags = append(diags, more...)
		p.Locals[n] = v
	}
	return diags
}
