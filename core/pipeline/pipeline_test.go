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
		{"-var over all", Options{Env: []string{"EBMFLOW_VAR_epsilon=0.125"}, VarFiles: []string{vf}, Vars: map[string]string{"epsilon": "0.0075"}}, 0.015, "-var epsilon"},
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
