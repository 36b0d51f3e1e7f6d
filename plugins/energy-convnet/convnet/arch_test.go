package convnet

import (
	"context"
	"reflect"
	"testing"
)

func TestParamCounts(t *testing.T) {
	// Counts from reference.md (692,993 and 10,593); the 28x28 variant differs
	// only in its final 3x3 conv: 256*9+1 instead of 256*16+1.
	for _, c := range []struct {
		a    attrs
		want int
		in   []int
	}{
		{attrs{"net": "vanilla", "epsilon": 0.01}, 692993, []int{1, 32, 32}},
		{attrs{"net": "vanilla", "epsilon": 0.01, "image_size": 28}, 692993 - 256*7, []int{1, 28, 28}},
		{attrs{"net": "vanilla", "epsilon": 0.01, "channels": 3}, 692993 + 2*9*32, []int{3, 32, 32}},
		{attrs{"net": "toy", "epsilon": 0.01}, 10593, []int{2}},
	} {
		p := New()
		shapes, d := p.Configure(context.Background(), newConfig(t, 1, c.a))
		if d.HasErrors() {
			t.Fatalf("%v: %v", c.a, d.Err())
		}
		if got := p.NumParams(); got != c.want {
			t.Errorf("%v: %d parameters, want %d", c.a, got, c.want)
		}
		if !reflect.DeepEqual(shapes["input"], c.in) {
			t.Errorf("%v: input shape %v, want %v", c.a, shapes["input"], c.in)
		}
	}
}

func TestVanillaSpatialSizes(t *testing.T) {
	for _, c := range []struct {
		size  int
		sizes []int // output size of each layer
		lastK int
	}{
		{32, []int{32, 16, 8, 4, 1}, 4},
		{28, []int{28, 14, 7, 3, 1}, 3},
		{64, []int{64, 32, 16, 8, 1}, 8},
	} {
		a, err := vanillaArch(1, 32, c.size)
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for _, l := range a.Layers {
			got = append(got, l.OutSize)
		}
		if !reflect.DeepEqual(got, c.sizes) {
			t.Errorf("size %d: layer outputs %v, want %v", c.size, got, c.sizes)
		}
		if k := a.Layers[4].K; k != c.lastK {
			t.Errorf("size %d: final kernel %d, want %d", c.size, k, c.lastK)
		}
	}
}

func TestStateNames(t *testing.T) {
	p := configured(t, 1, attrs{"net": "vanilla", "epsilon": 0.01, "optimizer": "adam"})
	st, err := p.SaveState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{
		"f.0.weight": {32, 1, 3, 3}, "f.0.bias": {32},
		"f.2.weight": {64, 32, 4, 4}, "f.2.bias": {64},
		"f.4.weight": {128, 64, 4, 4}, "f.4.bias": {128},
		"f.6.weight": {256, 128, 4, 4}, "f.6.bias": {256},
		"f.8.weight": {1, 256, 4, 4}, "f.8.bias": {1},
	}
	for _, k := range []string{"f.0", "f.2", "f.4", "f.6", "f.8"} {
		for _, s := range []string{".weight", ".bias"} {
			want["optim.exp_avg."+k+s] = want[k+s]
			want["optim.exp_avg_sq."+k+s] = want[k+s]
		}
	}
	if len(st.Tensors) != len(want) {
		t.Errorf("%d tensors, want %d", len(st.Tensors), len(want))
	}
	for k, v := range want {
		got, ok := st.Tensors[k]
		if !ok {
			t.Errorf("missing %s", k)
			continue
		}
		if !reflect.DeepEqual(got.Shape, v) {
			t.Errorf("%s: shape %v, want %v", k, got.Shape, v)
		}
	}
	pt := configured(t, 1, toy("float32"))
	st, err = pt.SaveState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	toyWant := map[string][]int{
		"f.0.weight": {32, 2}, "f.0.bias": {32}, "f.2.weight": {64, 32}, "f.2.bias": {64},
		"f.4.weight": {64, 64}, "f.4.bias": {64}, "f.6.weight": {64, 64}, "f.6.bias": {64},
		"f.8.weight": {1, 64}, "f.8.bias": {1},
	}
	if len(st.Tensors) != len(toyWant) {
		t.Errorf("toy: %d tensors, want %d", len(st.Tensors), len(toyWant))
	}
	for k, v := range toyWant {
		if got, ok := st.Tensors[k]; !ok || !reflect.DeepEqual(got.Shape, v) {
			t.Errorf("toy: %s: got %v, want shape %v", k, got, v)
		}
	}
}
