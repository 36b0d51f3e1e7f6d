package mnist

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// TestConfigureDiagnostics checks that each invalid attribute gives an error
// diagnostic whose Path names it (and nothing is loaded).
func TestConfigureDiagnostics(t *testing.T) {
	for _, c := range []struct {
		attrs map[string]any
		path  []string
		text  string
	}{
		{map[string]any{"dataset": "cifar"}, []string{"dataset"}, `dataset must be one of mnist, gmm, rings, points, segment, got "cifar"`},
		{map[string]any{"size": 30}, []string{"size"}, "size must be 28 (native), 32 or 64, got 30"},
		{map[string]any{"size": 32.5}, []string{"size"}, "size must be a whole number, got 32.5"},
		{map[string]any{"size": "big"}, []string{"size"}, "want a number"},
		{map[string]any{"resize": "nearest"}, []string{"resize"}, "resize must be one of bilinear, pad"},
		{map[string]any{"split": "valid"}, []string{"split"}, "split must be one of train, test"},
		{map[string]any{"digits": []any{1, 10}}, []string{"digits", "1"}, "digits must be whole numbers 0 to 9, got 10"},
		{map[string]any{"digits": []any{3, 3}}, []string{"digits", "1"}, "digit 3 is listed twice"},
		{map[string]any{"digits": "3"}, []string{"digits"}, "want a list of digits"},
		{map[string]any{"subset": -1}, []string{"subset"}, "subset must be 0 (all) or positive, got -1"},
		{map[string]any{"data_noise": -0.1}, []string{"data_noise"}, "data_noise must be a finite number >= 0, got -0.1"},
		{map[string]any{"sampling": "sequential"}, []string{"sampling"}, "sampling must be one of uniform, epoch"},
		{map[string]any{"batch_size": 0}, []string{"batch_size"}, "batch_size must lie in [1, 131072], got 0"},
		{map[string]any{"dtype": "float16"}, []string{"dtype"}, "dtype must be one of float32, float64"},
		{map[string]any{"data_nosie": 0.1}, []string{"data_nosie"}, `data-mnist has no attribute "data_nosie"`},
	} {
		p := New()
		shapes, diags := p.Configure(context.Background(), config(1, c.attrs))
		if !diags.HasErrors() || shapes != nil || len(diags) != 1 {
			t.Errorf("%v: shapes %v, diagnostics %v", c.attrs, shapes, diags)
			continue
		}
		d := diags[0]
		if !slices.Equal(d.Path, c.path) || !strings.Contains(d.Detail, c.text) {
			t.Errorf("%v: got %v at %v, want %q at %v", c.attrs, d.Detail, d.Path, c.text, c.path)
		}
	}
}

func TestConfigureDefaultsAndShapes(t *testing.T) {
	p := New()
	// Every attribute at its schema default, the way the host fills them in;
	// dataset = gmm so nothing is read.
	cfg := config(1, map[string]any{})
	for _, a := range p.Schema().Attributes {
		cfg = config(1, mergeDefault(cfg, a))
	}
	cfg.Values["dataset"] = []byte(`"gmm"`)
	shapes, diags := p.Configure(context.Background(), cfg)
	if diags.HasErrors() || !slices.Equal(shapes["sample"], []int{2}) {
		t.Fatalf("shapes %v, diagnostics %v", shapes, diags)
	}
	if p.p.Size != 32 || p.p.Resize != ResizeBilinear || p.p.Split != "train" || p.p.Sampling != SamplingUniform ||
		p.p.BatchSize != 100 || p.p.DType != sdk.Float32 || p.p.DataNoise != 0 || len(p.p.Digits) != 0 {
		t.Fatalf("defaults: %+v", p.p)
	}
	if got := (params{Size: 28}).sampleShape(); !slices.Equal(got, []int{1, 28, 28}) {
		t.Fatalf("mnist shape %v", got)
	}
	info := p.Info()
	if info.Name != "data-mnist" || info.Kind != sdk.KindData {
		t.Fatalf("info %+v", info)
	}
}

func mergeDefault(cfg *sdk.Config, a sdk.Attribute) map[string]any {
	m := map[string]any{}
	for k, v := range cfg.Values {
		m[k] = v
	}
	m[a.Name] = a.Default
	return m
}
