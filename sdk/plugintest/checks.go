package plugintest

import (
	"context"
	"fmt"
	"maps"
	"math"
	"reflect"
	"regexp"
	"slices"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

var (
	semver   = regexp.MustCompile(`^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
	attrName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	plugName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
)

// checkInfo checks Info over gRPC against describe and the suite.
func (e *env) checkInfo(t testing.TB) error {
	ctx := context.Background()
	var probs problems
	st, err := e.startGood(ctx, t)
	if err != nil {
		return err
	}
	defer func() { probs.addErr(st.close()) }()
	info := st.p.Info
	if !plugName.MatchString(info.Name) {
		probs.add("Info().Name %q: want lower-case letters, digits, '-' and '_' (it names the binary ebmflow-plugin-NAME)", info.Name)
	}
	if info.Kind != e.s.Kind {
		probs.add("kind %q, want %q", info.Kind, e.s.Kind)
	}
	if !semver.MatchString(info.Version) {
		probs.add("version %q is not a semantic version (MAJOR.MINOR.PATCH)", info.Version)
	}
	if info.Protocol != sdk.ProtocolVersion {
		probs.add("protocol %d, want %d", info.Protocol, sdk.ProtocolVersion)
	}
	if info.Description == "" {
		probs.add("Info().Description is empty: give one line for `ebmflow plugins`")
	}
	if d := e.bin.Info; d != info {
		probs.add("`describe` prints info %+v, but the running plugin says %+v", d, info)
	}
	schema, err := st.p.Schema(ctx)
	if err != nil {
		probs.add("schema: %v", err)
	} else if !reflect.DeepEqual(schema, e.bin.Schema) {
		probs.add("`describe` prints a schema that differs from the running plugin's:\n  describe: %+v\n  running:  %+v", e.bin.Schema, schema)
	}
	return probs.err()
}

var attrTypes = []sdk.AttrType{sdk.TypeString, sdk.TypeNumber, sdk.TypeInt, sdk.TypeBool, sdk.TypeListNumber, sdk.TypeListString}

// checkSchema checks the schema's attributes: names, types, docs, defaults.
func (e *env) checkSchema(t testing.TB) error {
	var probs problems
	seen := map[string]bool{}
	schema := e.bin.Schema
	if len(schema.Attributes) == 0 {
		t.Log("the schema declares no attributes")
	}
	for _, a := range schema.Attributes {
		at := fmt.Sprintf("attribute %q", a.Name)
		if !attrName.MatchString(a.Name) {
			probs.add("%s: names are lower-case snake_case (as HCL attributes are written)", at)
		}
		if seen[a.Name] {
			probs.add("%s: declared twice", at)
		}
		seen[a.Name] = true
		if a.Name == "plugin" {
			probs.add("%s: \"plugin\" is the stage block's own attribute", at)
		}
		if a.Doc == "" {
			probs.add("%s: no doc string", at)
		}
		k := a.Type.RefKind()
		if k == "" && !slices.Contains(attrTypes, a.Type) {
			probs.add("%s: unknown type %q (want one of %v or sdk.StageRef(kind))", at, a.Type, attrTypes)
		}
		if k != "" && !slices.Contains(sdk.Kinds, k) {
			probs.add("%s: references unknown kind %q", at, k)
		}
		if a.Required && a.Default != nil {
			probs.add("%s: required and with a default %v; it is one or the other", at, a.Default)
		}
		if len(a.Enum) > 0 && a.Type != sdk.TypeString {
			probs.add("%s: an enum needs type string, not %s", at, a.Type)
		}
		if a.Bounds.IsSet() {
			if a.Type != sdk.TypeNumber && a.Type != sdk.TypeInt && a.Type != sdk.TypeListNumber {
				probs.add("%s: bounds %s need type number, int or list(number), not %s", at, a.Bounds, a.Type)
			}
			if a.Min != nil && a.Max != nil && (*a.Min > *a.Max || (*a.Min == *a.Max && (a.MinExclusive || a.MaxExclusive))) {
				probs.add("%s: bounds %s admit no value", at, a.Bounds)
			}
		}
		if a.Default != nil {
			if err := fits(a, a.Default); err != nil {
				probs.add("%s: default %v: %v", at, a.Default, err)
			}
		}
	}
	for _, v := range slices.Sorted(maps.Keys(e.s.Config)) {
		if _, ok := schema.Lookup(v); !ok {
			probs.add("Suite.Config sets %q, which the schema does not declare", v)
		}
	}
	return probs.err()
}

// fits reports whether v (as decoded from JSON) is a value of a's type.
func fits(a sdk.Attribute, v any) error {
	switch a.Type {
	case sdk.TypeString:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("not a string")
		}
		if len(a.Enum) > 0 && !slices.Contains(a.Enum, s) {
			return fmt.Errorf("not one of %q", a.Enum)
		}
	case sdk.TypeNumber:
		f, ok := v.(float64)
		if !ok {
			return fmt.Errorf("not a number")
		}
		return inBounds(a, f)
	case sdk.TypeInt:
		f, ok := v.(float64)
		if !ok || f != math.Trunc(f) {
			return fmt.Errorf("not a whole number")
		}
		return inBounds(a, f)
	case sdk.TypeBool:
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("not a bool")
		}
	case sdk.TypeListNumber, sdk.TypeListString:
		l, ok := v.([]any)
		if !ok {
			return fmt.Errorf("not a list")
		}
		for _, x := range l {
			f, ok := x.(float64)
			if a.Type == sdk.TypeListNumber && !ok {
				return fmt.Errorf("element %v is not a number", x)
			}
			if ok {
				if err := inBounds(a, f); err != nil {
					return err
				}
			}
			if _, ok := x.(string); a.Type == sdk.TypeListString && !ok {
				return fmt.Errorf("element %v is not a string", x)
			}
		}
	default:
		return fmt.Errorf("a stage reference has no default")
	}
	return nil
}

// inBounds reports a default outside the attribute's own bounds.
func inBounds(a sdk.Attribute, f float64) error {
	if err := a.Bounds.Check(f); err != nil {
		return fmt.Errorf("%s %w (range %s)", sdk.FormatNumber(f), err, a.Bounds)
	}
	return nil
}

// conventionalShape is the shape name a kind declares at configure.
func conventionalShape(k sdk.Kind) string {
	switch k {
	case sdk.KindEnergy:
		return "input"
	case sdk.KindSampler, sdk.KindData:
		return "sample"
	}
	return ""
}

// checkConfigure checks the good configuration and every bad one.
func (e *env) checkConfigure(t testing.TB) error {
	ctx := context.Background()
	var probs problems
	st, err := e.startGood(ctx, t)
	if err != nil {
		return err
	}
	if name := conventionalShape(e.s.Kind); name != "" {
		if sh, ok := st.shapes[name]; !ok {
			probs.add("configure declares shapes %v, without %q: a %s stage declares its per-sample shape as %q", st.shapes, name, e.s.Kind, name)
		} else if slices.ContainsFunc(sh, func(d int) bool { return d <= 0 }) {
			probs.add("configure declares %s shape %v: dimensions must be positive", name, sh)
		}
	}
	for _, d := range st.diags {
		t.Logf("good configuration: %s: %s", d.Severity, d.Error())
	}
	probs.addErr(st.close())
	if len(e.s.Bad) == 0 {
		t.Log("Suite.Bad is empty: no bad configuration was tried")
	}
	for i, b := range e.s.Bad {
		vals := map[string]any{}
		for k, v := range e.s.Config {
			vals[k] = v
		}
		for k, v := range b.Set {
			if v == nil {
				delete(vals, k)
			} else {
				vals[k] = v
			}
		}
		bad, err := e.start(ctx, t, vals)
		if err != nil {
			probs.add("bad configuration %d (%v): %v", i, b.Set, err)
			continue
		}
		found := false
		for _, d := range bad.diags {
			if d.Severity == sdk.SeverityError && len(d.Path) > 0 && d.Path[0] == b.Path {
				found = true
				if d.Summary == "" {
					probs.add("bad configuration %d (%v): the error problem about %q has no summary", i, b.Set, b.Path)
				}
			}
		}
		if !found {
			probs.add("bad configuration %d (%v): want an error problem with path [%s], got %d problems: %v", i, b.Set, b.Path, len(bad.diags), describeDiags(bad.diags))
		}
		if _, err := bad.p.Client.Info(ctx); err != nil {
			probs.add("bad configuration %d: the plugin stopped answering after refusing it: %v", i, err)
		}
		probs.addErr(bad.close())
	}
	return probs.err()
}

func describeDiags(ds sdk.Problems) string {
	s := "["
	for i, d := range ds {
		if i > 0 {
			s += "; "
		}
		s += fmt.Sprintf("%s %v %q", d.Severity, d.Path, d.Summary)
	}
	return s + "]"
}
