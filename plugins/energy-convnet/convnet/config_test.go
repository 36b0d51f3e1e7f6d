package convnet

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

func TestConfigureDiagnostics(t *testing.T) {
	for _, c := range []struct {
		a    attrs
		path string
		want string
	}{
		{attrs{"net": "vanilla"}, "epsilon", "missing required"},
		{attrs{"epsilon": 0}, "epsilon", "outside"},
		{attrs{"epsilon": -1}, "epsilon", "outside"},
		{attrs{"epsilon": "x"}, "epsilon", "want a number"},
		{attrs{"epsilon": 0.01, "net": "resnet"}, "net", `"resnet" is not one of`},
		{attrs{"epsilon": 0.01, "channels": 2}, "channels", "must be 1 or 3"},
		{attrs{"epsilon": 0.01, "image_size": 48}, "image_size", "must be 32, 28 or 64"},
		{attrs{"epsilon": 0.01, "net": "nonlocal", "image_size": 28}, "image_size", "32x32 images only"},
		{attrs{"epsilon": 0.01, "n_f": 1.5}, "n_f", "whole number"},
		{attrs{"epsilon": 0.01, "n_f": 0}, "n_f", "between"},
		{attrs{"epsilon": 0.01, "slope": 1}, "slope", "outside"},
		{attrs{"epsilon": 0.01, "optimizer": "rmsprop"}, "optimizer", "not one of"},
		{attrs{"epsilon": 0.01, "adam_beta1": 1}, "adam_beta1", "outside"},
		{attrs{"epsilon": 0.01, "adam_beta2": -0.1}, "adam_beta2", "outside"},
		{attrs{"epsilon": 0.01, "adam_eps": 0}, "adam_eps", "outside"},
		{attrs{"epsilon": 0.01, "dtype": "float16"}, "dtype", "not one of"},
	} {
		_, d := New().Configure(context.Background(), newConfig(t, 1, c.a))
		if !d.HasErrors() {
			t.Errorf("%v: no error", c.a)
			continue
		}
		found := false
		for _, x := range d {
			if reflect.DeepEqual(x.Path, []string{c.path}) && strings.Contains(x.Error(), c.want) {
				found = true
			}
		}
		if !found {
			t.Errorf("%v: diagnostics %v, want one at %q containing %q", c.a, d.Err(), c.path, c.want)
		}
	}
}

func TestSchemaDocumentsEveryAttribute(t *testing.T) {
	s := New().Schema()
	for _, n := range []string{"net", "channels", "image_size", "n_f", "slope", "epsilon", "optimizer", "adam_beta1", "adam_beta2", "adam_eps", "dtype"} {
		a, ok := s.Lookup(n)
		if !ok {
			t.Errorf("%s: not in schema", n)
			continue
		}
		if !strings.Contains(a.Doc, "Default") && !strings.Contains(a.Doc, "Required") {
			t.Errorf("%s: doc does not state the default: %q", n, a.Doc)
		}
		if (a.Default == nil) != a.Required {
			t.Errorf("%s: default %v, required %v", n, a.Default, a.Required)
		}
	}
	if a, _ := s.Lookup("epsilon"); !a.Required {
		t.Error("epsilon is not required")
	}
}

func TestConfigureDefaultsAndToyShape(t *testing.T) {
	p := New()
	sh, d := p.Configure(context.Background(), newConfig(t, 1, attrs{"net": "toy", "epsilon": 0.125}))
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	if !reflect.DeepEqual(sh, sdk.Shapes{"input": {2}}) {
		t.Errorf("toy shapes %v", sh)
	}
	if p.set.Slope != 0.05 || p.set.Optimizer != "sgd" || p.dt != sdk.Float32 || p.set.Beta2 != 0.999 {
		t.Errorf("defaults not applied: %+v", p.set)
	}
}
