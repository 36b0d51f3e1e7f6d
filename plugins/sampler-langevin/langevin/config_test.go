package langevin

import (
	"context"
	"strings"
	"testing"
)

// TestConfigureDiagnostics checks that bad blocks are refused with a
// diagnostic on the right attribute.
func TestConfigureDiagnostics(t *testing.T) {
	ok := map[string]any{"epsilon": 0.01, "steps": 10}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range ok {
			m[a] = b
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		vals  map[string]any
		data  bool
		shape []int
		path  string
	}{
		{with("epsilon", nil), false, []int{2}, "epsilon"},
		{with("epsilon", -0.1), false, []int{2}, "epsilon"},
		{with("steps", 0), false, []int{2}, "steps"},
		{with("batch", 0), false, []int{2}, "batch"},
		{with("init", "warm"), false, []int{2}, "init"},
		{with("init", "data"), false, []int{2}, "data"},
		{with("init_scale", 0), false, []int{2}, "init_scale"},
		{with("reinit_prob", 1.5), false, []int{2}, "reinit_prob"},
		{with("dtype", "float16"), false, []int{2}, "dtype"},
		{map[string]any{"epsilon": 0.01, "steps": 10, "init": "persistent", "bank_size": 50}, false, []int{2}, "bank_size"},
		{ok, false, nil, "energy"},
		{ok, true, []int{3}, "data"}, // data stage samples are [2]
	}
	for _, c := range cases {
		shape := c.shape
		cfg := config(t, 1, c.vals, shape, quad(1, []float64{0, 0, 0}, nil), nil)
		if shape == nil {
			delete(cfg.Upstream, "energy")
		}
		if c.data {
			cfg.SetLink("data", &fixedData{shape: []int{2}, size: 10})
		}
		_, diags := New().Configure(context.Background(), cfg)
		if !diags.HasErrors() {
			t.Errorf("%v: no error diagnostic", c.vals)
			continue
		}
		found := false
		for _, d := range diags {
			found = found || strings.Join(d.Path, ".") == c.path
		}
		if !found {
			t.Errorf("%v: diagnostics %v do not point at %q", c.vals, diags.Err(), c.path)
		}
	}
	cfg := config(t, 1, ok, []int{2}, nil, nil)
	if _, diags := New().Configure(context.Background(), cfg); !diags.HasErrors() {
		t.Errorf("configure without an energy link succeeded")
	}
	s := configured(t, config(t, 1, ok, []int{2}, quad(1, []float64{0, 0}, nil), nil))
	if s.p.Batch != 100 || s.p.Init != InitUniform || s.p.InitScale != 1 || s.p.BankSize != defaultBankSize || s.p.MALA {
		t.Errorf("defaults %+v", s.p)
	}
	for _, a := range New().Schema().Attributes {
		if a.Doc == "" {
			t.Errorf("attribute %q has no doc", a.Name)
		}
	}
}
