package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// schemas is a static Describer with two small plugins, for tests of the
// language alone (the CLI's golden tests use real plugin processes).
func schemas(name string) (sdk.Info, sdk.Schema, error) {
	switch name {
	case "e":
		return sdk.Info{Name: "e", Kind: sdk.KindEnergy, Version: "1.2.3"}, sdk.Schema{Attributes: []sdk.Attribute{
			{Name: "epsilon", Type: sdk.TypeNumber, Required: true},
			{Name: "net", Type: sdk.TypeString, Enum: []string{"toy", "vanilla"}},
			{Name: "n_f", Type: sdk.TypeInt},
			{Name: "shape", Type: sdk.TypeListNumber},
		}}, nil
	case "s":
		return sdk.Info{Name: "s", Kind: sdk.KindSampler, Version: "1.0.0"}, sdk.Schema{Attributes: []sdk.Attribute{
			{Name: "energy", Type: sdk.StageRef(sdk.KindEnergy), Required: true},
			{Name: "data", Type: sdk.StageRef(sdk.KindData)},
		}}, nil
	case "d":
		return sdk.Info{Name: "d", Kind: sdk.KindData, Version: "1.0.0"}, sdk.Schema{}, nil
	}
	return sdk.Info{}, sdk.Schema{}, os.ErrNotExist
}

const base = `
schedule "lr" {
  type    = "constant"
  initial = 0.1
}
stage "data" {
  plugin = "d"
}
stage "sampler" {
  plugin = "s"
  energy = stage.energy
  data   = stage.data
}
train {
  iterations = 5
  energy     = stage.energy
  sampler    = stage.sampler
  data       = stage.data
}
`

func load(t *testing.T, src string, opts Options) (*Pipeline, hcl.Diagnostics) {
	t.Helper()
	if opts.Env == nil {
		opts.Env = []string{}
	}
	p, diags := ParseSource("p.hcl", []byte(src), opts)
	if diags.HasErrors() {
		return p, diags
	}
	return p, p.Bind(schemas)
}

func TestVariablesPrecedence(t *testing.T) {
	src := `
variable "epsilon" {
  type    = number
  default = 0.5
}
locals {
  eps_data = 2 * var.epsilon
}
stage "energy" {
  plugin  = "e"
  epsilon = local.eps_data
}
` + base
	dir := t.TempDir()
	vf := filepath.Join(dir, "v.hcl")
	os.WriteFile(vf, []byte("epsilon = 0.25\n"), 0o644)
	cases := []struct {
		name string
		opts Options
		want float64
		src  string
	}{
		{"default", Options{}, 1.0, "default"},
		{"env", Options{Env: []string{"EBMFLOW_VAR_epsilon=0.125"}}, 0.25, "environment variable EBMFLOW_VAR_epsilon"},
		{"var-file over env", Options{Env: []string{"EBMFLOW_VAR_epsilon=0.125"}, VarFiles: []string{vf}}, 0.5, "variable file " + vf},
		{"values over var-file", Options{VarFiles: []string{vf}, Values: map[string]string{"epsilon": "0.0625"}, ValuesSource: "manifest"}, 0.125, "manifest"},
		{"-var over all", Options{Env: []string{"EBMFLOW_VAR_epsilon=0.125"}, VarFiles: []string{vf}, Values: map[string]string{"epsilon": "0.0625"}, Vars: map[string]string{"epsilon": "0.0075"}}, 0.015, "-var epsilon"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, diags := load(t, src, c.opts)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if got := string(p.Stage("energy").Values["epsilon"]); got != strings.TrimRight(strings.TrimRight(cty.NumberFloatVal(c.want).AsBigFloat().Text('f', 6), "0"), ".") {
				t.Errorf("epsilon = %s, want %v", got, c.want)
			}
			if p.VariableSources["epsilon"] != c.src {
				t.Errorf("source = %q, want %q", p.VariableSources["epsilon"], c.src)
			}
		})
	}
}

// TestValuesErrors: Values are checked like a variable file's: undeclared
// names and values of the wrong type are reported with their source.
func TestValuesErrors(t *testing.T) {
	src := "variable \"epsilon\" {\n  type = number\n}\n" + base
	_, diags := load(t, src, Options{Values: map[string]string{"epsilon": `"x"`, "eps": "1"}, ValuesSource: "point p"})
	var text string
	for _, d := range diags {
		text += d.Detail + "\n"
	}
	for _, want := range []string{`point p sets variable "eps", which the pipeline does not declare`, `point p epsilon: "\"x\"" does not fit: a number is required`} {
		if !strings.Contains(text, want) {
			t.Errorf("diagnostics lack %q:\n%s", want, text)
		}
	}
}

func TestOrderAndValues(t *testing.T) {
	p, diags := load(t, `
stage "energy" {
  plugin  = "e"
  epsilon = 0.01
  net     = "toy"
  n_f     = 8
  shape   = [1, 28, 28]
}
`+base, Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var order []string
	for _, s := range p.Order {
		order = append(order, s.Name)
	}
	if strings.Join(order, ",") != "energy,data,sampler" { // declaration order, references first
		t.Fatalf("order = %v", order)
	}
	s := p.Stage("sampler")
	if s.Refs["energy"] != "energy" || string(s.Values["energy"]) != `"energy"` || s.Kind != sdk.KindSampler {
		t.Fatalf("sampler = %+v", s)
	}
	if got := string(p.Stage("energy").Values["shape"]); got != "[1,28,28]" {
		t.Fatalf("shape = %s", got)
	}
}

func TestBindErrors(t *testing.T) {
	cases := []struct{ name, stage, want string }{
		{"enum", `stage "energy" {
  plugin  = "e"
  epsilon = 1
  net     = "resnet"
}`, `must be one of "toy", "vanilla", got "resnet"`},
		{"int", `stage "energy" {
  plugin  = "e"
  epsilon = 1
  n_f     = 2.5
}`, "a whole number is required, got 2.5"},
		{"missing", `stage "energy" {
  plugin = "e"
}`, `The argument "epsilon" is required`},
		{"suggest", `stage "energy" {
  plugin   = "e"
  epsilon  = 1
  epsilom  = 1
}`, `Did you mean "epsilon"?`},
		{"ref in value", `stage "energy" {
  plugin  = "e"
  epsilon = stage.data
}`, "Stage reference not allowed here"},
		{"unknown plugin", `stage "energy" {
  plugin  = "nonesuch"
}`, "Plugin not available"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, diags := load(t, c.stage+base, Options{})
			if !diags.HasErrors() || !strings.Contains(diags.Error(), c.want) {
				t.Fatalf("diags = %v, want %q", diags, c.want)
			}
		})
	}
}

func TestLocalsCycleAndUndeclaredVar(t *testing.T) {
	_, diags := load(t, `
locals {
  a = local.b + 1
  b = local.a
}
`, Options{})
	if !strings.Contains(diags.Error(), "local.a -> local.b -> local.a") {
		t.Fatalf("diags = %v", diags)
	}
	_, diags = load(t, base, Options{Vars: map[string]string{"nope": "1"}})
	if !strings.Contains(diags.Error(), `sets variable "nope", which the pipeline does not declare`) {
		t.Fatalf("diags = %v", diags)
	}
}

// TestScheduleDecodedOnce: the schedule block decodes into schedule.Config,
// and schedule.Validate's complaint lands on the attribute at fault.
func TestScheduleDecodedOnce(t *testing.T) {
	stages := strings.Replace(base, "type    = \"constant\"\n  initial = 0.1", "type    = \"constant\"\n  initial = 0.1\n  warmup  = 10", 1)
	p, diags := ParseSource("p.hcl", []byte(stages+"stage \"energy\" {\n  plugin = \"e\"\n}\n"), Options{Env: []string{}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if c := p.Schedule; c.Kind != "constant" || c.Initial != 0.1 || c.Warmup != 10 {
		t.Errorf("schedule %+v", *c)
	}
	for _, c := range []struct{ body, field, want string }{
		{"type = \"exp\"\n  initial = 0.1\n  decay = 1.5", "decay", `schedule "exp": decay must be in (0, 1], got 1.5.`},
		{"type = \"warp\"\n  initial = 0.1", "type", `schedule: unknown type "warp" (want one of constant, exp, linear, cosine, step).`},
		{"type = \"cosine\"\n  initial = 0.1", "", `schedule "cosine": iterations must be >= 1, got 0.`},
	} {
		src := strings.Replace(base, "type    = \"constant\"\n  initial = 0.1", c.body, 1)
		_, diags := ParseSource("p.hcl", []byte(src), Options{Env: []string{}})
		if len(diags) != 1 || diags[0].Detail != c.want {
			t.Errorf("%s: %v, want %q", c.field, diags, c.want)
			continue
		}
		line := 2 // the block's first line; its body starts on line 3
		if c.field != "" {
			line = 3 + strings.Count(c.body[:strings.Index(c.body, c.field+" =")], "\n")
		}
		if got := diags[0].Subject.Start.Line; got != line {
			t.Errorf("%s: the diagnostic is on line %d, want %d", c.field, got, line)
		}
	}
}

// TestMissingBlocksPointAtTheEnd: a missing schedule or train block is
// reported at the end of the file, where it would go, not at line 1.
func TestMissingBlocksPointAtTheEnd(t *testing.T) {
	src := "stage \"e\" {\n  plugin = \"x\"\n}\n\n# the end\n"
	_, diags := ParseSource("p.hcl", []byte(src), Options{})
	var seen int
	for _, d := range diags {
		if d.Summary != "Missing train block" && d.Summary != "Missing schedule block" {
			continue
		}
		seen++
		if d.Subject == nil || d.Subject.Start.Line != 6 {
			t.Errorf("%s at %v, want line 6 (the end)", d.Summary, d.Subject)
		}
	}
	if seen != 2 {
		t.Fatalf("%d missing-block diagnostics, want 2: %v", seen, diags)
	}
}

// TestInvalidVariableReportedOnce: a value that does not fit its variable
// is one error, where it was given: not followed by "No value for required
// variable" nor by errors of the attributes that use it.
func TestInvalidVariableReportedOnce(t *testing.T) {
	src := `variable "n" {
  type = number
}
variable "cfg" {
  type    = object({ steps = number, eps = number })
  default = { steps = 3, eps = 0.1 }
}
schedule "lr" {
  type    = "constant"
  initial = var.n
}
train {
  iterations = var.n
  seed       = 1
  batch      = var.cfg.steps
  energy     = stage.e
  sampler    = stage.s
  data       = stage.d
}
`
	for _, c := range []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"n": "abc"}, `-var n: "abc" is not a value of type number.`},
		{map[string]string{"n": "2", "cfg": "{ steps = 3, esp = 0.1 }"}, `"esp" is not a field of it; did you mean "eps"?`},
	} {
		_, diags := ParseSource("p.hcl", []byte(src), Options{Vars: c.vars})
		var vars, other []string
		for _, d := range diags {
			if d.Summary == "Invalid value for variable" {
				vars = append(vars, d.Detail)
			} else if !strings.Contains(d.Detail, "stage") { // the stages are not declared here
				other = append(other, d.Summary+": "+d.Detail)
			}
		}
		if len(vars) != 1 || !strings.Contains(vars[0], c.want) || len(other) != 0 {
			t.Errorf("%v: variable errors %q, others %q", c.vars, vars, other)
		}
	}
}
