package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestTensorExpectAndValidate(t *testing.T) {
	x := NewTensor(Float32, 4, 1, 28, 28)
	if err := x.Expect(Float32, -1, 1, 28, 28); err != nil {
		t.Fatal(err)
	}
	err := x.Expect(Float32, -1, 1, 32, 32)
	if !errors.Is(err, ErrShape) || !strings.Contains(err.Error(), "expected float32 [? 1 32 32], received float32 [4 1 28 28]") {
		t.Fatalf("err = %v", err)
	}
	if err := x.Expect(Float64, 4, 1, 28, 28); !errors.Is(err, ErrShape) {
		t.Fatalf("dtype mismatch: %v", err)
	}
	bad := &Tensor{DType: Float32, Shape: []int{2, 3}, F32: make([]float32, 5)}
	if err := bad.Validate(); !errors.Is(err, ErrShape) {
		t.Fatalf("length mismatch: %v", err)
	}
	if x.Batch() != 4 || len(x.SampleShape()) != 3 || x.Len() != 4*28*28 {
		t.Fatal("batch / sample shape / len")
	}
}

func TestCheckFinite(t *testing.T) {
	x := FromFloat64([]float64{1, math.NaN()}, 2)
	if err := x.CheckFinite(); !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "element 1") {
		t.Fatalf("err = %v", err)
	}
	y := FromFloat32([]float32{1, float32(math.Inf(-1))}, 1, 2)
	if err := y.CheckFinite(); !errors.Is(err, ErrNonFinite) {
		t.Fatalf("err = %v", err)
	}
}

func TestStreamsAreSeededAndRestorable(t *testing.T) {
	a, b := NewStream(123, "sampler"), NewStream(123, "sampler")
	c := NewStream(123, "data")
	for i := 0; i < 5; i++ {
		if a.Uint64() != b.Uint64() {
			t.Fatal("same seed and name differ")
		}
	}
	if NewStream(123, "sampler").Uint64() == c.Uint64() {
		t.Fatal("different names give the same stream")
	}
	state, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{a.NormFloat64(), a.Float64(), a.NormFloat64()}
	r := NewStream(999, "other")
	if err := r.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	got := []float64{r.NormFloat64(), r.Float64(), r.NormFloat64()}
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("restored stream draw %d = %v, want %v", i, got[i], want[i])
		}
	}
	if DeriveSeed(1, "a") == DeriveSeed(2, "a") || DeriveSeed(1, "a") == DeriveSeed(1, "b") {
		t.Fatal("DeriveSeed collides")
	}
}

func TestConfigAccessors(t *testing.T) {
	cfg := &Config{Values: map[string]json.RawMessage{"eps": json.RawMessage("0.015"), "steps": json.RawMessage("100"), "net": json.RawMessage(`"toy"`), "mala": json.RawMessage("true"), "none": json.RawMessage("null")}}
	if cfg.Float("eps") != 0.015 || cfg.Int("steps") != 100 || cfg.String("net") != "toy" || !cfg.Bool("mala") {
		t.Fatal("accessors")
	}
	if cfg.Has("none") || cfg.Has("missing") || !cfg.Has("eps") {
		t.Fatal("Has")
	}
	var s struct {
		Eps   float64 `json:"eps"`
		Steps int     `json:"steps"`
	}
	if err := cfg.DecodeAll(&s); err != nil || s.Eps != 0.015 || s.Steps != 100 {
		t.Fatalf("DecodeAll = %+v, %v", s, err)
	}
	if _, err := cfg.Energy("energy"); err == nil {
		t.Fatal("unlinked energy returned")
	}
}

func TestStageRefKind(t *testing.T) {
	if StageRef(KindEnergy).RefKind() != KindEnergy || TypeNumber.RefKind() != "" {
		t.Fatal("RefKind")
	}
	var d Problems
	d.Warnf([]string{"x"}, "w", "")
	if d.HasErrors() || d.Err() != nil {
		t.Fatal("warning counted as error")
	}
	d.Errorf([]string{"eps"}, "Invalid epsilon", "must be positive, got %g", -1.0)
	if !d.HasErrors() || d.Err().Error() != "eps: Invalid epsilon: must be positive, got -1" {
		t.Fatalf("Err = %v", d.Err())
	}
}

// TestConfigUnknownName: with a schema, reading a name it does not have is
// a loud failure (a typo in plugin code), not a zero; without one (a Config
// built by hand) the accessors read what is there.
func TestConfigUnknownName(t *testing.T) {
	cfg := &Config{Stage: "sampler", Values: map[string]json.RawMessage{"steps": json.RawMessage("5")},
		Schema: Schema{Attributes: []Attribute{{Name: "steps", Type: TypeInt}, {Name: "mala", Type: TypeBool}}}}
	if cfg.Int("steps") != 5 || cfg.Bool("mala") {
		t.Fatal("known names")
	}
	for _, call := range []func(){func() { cfg.Float("stpes") }, func() { cfg.Int("stpes") }, func() { cfg.String("stpes") }, func() { cfg.Bool("stpes") }} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, `("stpes") in stage "sampler": the plugin's schema has no attribute "stpes" (it has [steps mala])`) {
					t.Errorf("panic %q", msg)
				}
			}()
			call()
		}()
	}
	hand := &Config{Values: map[string]json.RawMessage{"x": json.RawMessage("2")}}
	if hand.Float("x") != 2 || hand.Float("y") != 0 {
		t.Error("a Config without a schema")
	}
}

// TestCheckFiniteFindsEveryKind plants each kind of non-finite value at
// positions around the block boundaries of both element types, next to the
// largest finite values and subnormals, and checks that the first one is
// named and that finite tensors pass.
func TestCheckFiniteFindsEveryKind(t *testing.T) {
	bad := []float64{math.NaN(), math.Inf(1), math.Inf(-1)}
	for _, n := range []int{1, 7, finiteBlock - 1, finiteBlock, finiteBlock + 1, 3*finiteBlock + 5} {
		f32 := make([]float32, n)
		f64 := make([]float64, n)
		for i := range n {
			f32[i] = []float32{math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 0, -1.5}[i%5]
			f64[i] = []float64{math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, 0, -1.5}[i%5]
		}
		if err := FromFloat32(f32, n).CheckFinite(); err != nil {
			t.Fatalf("n=%d float32 finite: %v", n, err)
		}
		if err := FromFloat64(f64, n).CheckFinite(); err != nil {
			t.Fatalf("n=%d float64 finite: %v", n, err)
		}
		for _, at := range []int{0, n / 2, n - 1, min(n-1, finiteBlock), min(n-1, finiteBlock-1)} {
			for _, v := range bad {
				g32, g64 := slices.Clone(f32), slices.Clone(f64)
				g32[at], g64[at] = float32(v), v
				if at+1 < n {
					g32[n-1], g64[n-1] = float32(math.NaN()), math.NaN()
				}
				want := fmt.Sprintf("element %d of", at)
				for _, err := range []error{FromFloat32(g32, n).CheckFinite(), FromFloat64(g64, n).CheckFinite()} {
					if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), want) {
						t.Fatalf("n=%d, %v at %d: err = %v", n, v, at, err)
					}
				}
			}
		}
	}
}

func BenchmarkCheckFinite(b *testing.B) {
	x := NewTensor(Float32, 100, 1, 32, 32)
	for i := range x.F32 {
		x.F32[i] = float32(i%13) - 6
	}
	b.SetBytes(int64(4 * len(x.F32)))
	for b.Loop() {
		if err := x.CheckFinite(); err != nil {
			b.Fatal(err)
		}
	}
}

// gradOnly is an EnergyLink without GradInto: F = sum x, dF/dx = 1.
type gradOnly struct{ calls int }

func (g *gradOnly) Energy(ctx context.Context, x *Tensor) (*Tensor, error) { return nil, nil }

func (g *gradOnly) Grad(ctx context.Context, x *Tensor) (*Tensor, *Tensor, error) {
	g.calls++
	f, d := NewTensor(x.DType, x.Batch()), NewTensor(x.DType, x.Shape...)
	per := x.Len() / x.Batch()
	for i := range x.Len() {
		f.Set(i/per, f.At(i/per)+x.At(i))
		d.Set(i, 1)
	}
	return f, d, nil
}

// withInto is gradOnly with GradInto, which writes into the storage given.
type withInto struct{ gradOnly }

func (w *withInto) GradInto(ctx context.Context, x, f, dfdx *Tensor) (*Tensor, *Tensor, error) {
	gf, gd, err := w.Grad(ctx, x)
	copy(f.F32, gf.F32)
	copy(dfdx.F32, gd.F32)
	return f, dfdx, err
}

// TestGradInto checks that GradInto uses a link's GradInto with the
// storage given (allocating nil storage) and otherwise returns Grad's
// answer as it is.
func TestGradInto(t *testing.T) {
	ctx := context.Background()
	x := FromFloat32([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	plain := &gradOnly{}
	f, d, err := GradInto(ctx, plain, x, NewTensor(Float32, 2), NewTensor(Float32, 2, 3))
	if err != nil || plain.calls != 1 || f.At(0) != 6 || f.At(1) != 15 || d.At(5) != 1 {
		t.Fatalf("without GradInto: %v %v %v (%d calls)", f, d, err, plain.calls)
	}
	w := &withInto{}
	sf, sd := NewTensor(Float32, 2), NewTensor(Float32, 2, 3)
	if f, d, err = GradInto(ctx, w, x, sf, sd); err != nil || f != sf || d != sd || f.At(1) != 15 {
		t.Fatalf("with GradInto: storage not used or wrong: %v %v %v", f, d, err)
	}
	if f, d, err = GradInto(ctx, w, x, nil, nil); err != nil || f.At(0) != 6 || !slices.Equal(d.Shape, []int{2, 3}) {
		t.Fatalf("with GradInto, no storage: %v %v %v", f, d, err)
	}
}
