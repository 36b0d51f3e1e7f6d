package convnet

import (
	"context"
	"math"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// TestGradIntoMatchesGrad checks GradInto on the dedicated paths (toy,
// nonlocal) and the graph path, in both dtypes: storage that fits is written over (garbage in it
// first) and returned, with Grad's bits; storage of another shape is left
// alone and new tensors come back; nil storage is allocated.
func TestGradIntoMatchesGrad(t *testing.T) {
	ctx := context.Background()
	for _, a := range []attrs{toy("float32"), toy("float64"), smallVanilla(28, "float32"), smallVanilla(28, "float64"), smallNonlocal("float32"), smallNonlocal("float64")} {
		p := configured(t, 5, a)
		x := randomBatch(p, 7, 3)
		wf, wg, err := p.Grad(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		f, g := sdk.NewTensor(x.DType, 7), sdk.NewTensor(x.DType, x.Shape...)
		for round := range 2 {
			fill(f, 1e30)
			fill(g, -7)
			gf, gg, err := p.GradInto(ctx, x, f, g)
			if err != nil {
				t.Fatal(err)
			}
			if gf != f || gg != g {
				t.Fatalf("%v round %d: fitting storage not used", a, round)
			}
			if !sameTensor(gf, wf) || !sameTensor(gg, wg) {
				t.Fatalf("%v round %d: GradInto differs from Grad", a, round)
			}
		}
		badF, badG := sdk.NewTensor(x.DType, 8), sdk.NewTensor(x.DType, 1, x.Len())
		fill(badF, 3)
		gf, gg, err := p.GradInto(ctx, x, badF, badG)
		if err != nil {
			t.Fatal(err)
		}
		if gf == badF || gg == badG || !sameTensor(gf, wf) || !sameTensor(gg, wg) || badF.At(0) != 3 {
			t.Fatalf("%v: storage of another shape was used or written", a)
		}
		if gf, gg, err = sdk.GradInto(ctx, p, x, nil, nil); err != nil || !sameTensor(gf, wf) || !sameTensor(gg, wg) {
			t.Fatalf("%v: sdk.GradInto with no storage: %v", a, err)
		}
	}
}

func fill(t *sdk.Tensor, v float64) {
	for i := range t.Len() {
		t.Set(i, v)
	}
}

// sameTensor reports whether a and b have the same dtype, shape and bits.
func sameTensor(a, b *sdk.Tensor) bool {
	if a.DType != b.DType || sdk.FormatShape(a.Shape) != sdk.FormatShape(b.Shape) || a.Len() != b.Len() {
		return false
	}
	for i := range a.F32 {
		if math.Float32bits(a.F32[i]) != math.Float32bits(b.F32[i]) {
			return false
		}
	}
	for i := range a.F64 {
		if math.Float64bits(a.F64[i]) != math.Float64bits(b.F64[i]) {
			return false
		}
	}
	return true
}
