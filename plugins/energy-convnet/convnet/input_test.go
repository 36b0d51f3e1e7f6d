package convnet

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

func TestBadShapeAndDType(t *testing.T) {
	ctx := context.Background()
	p := configured(t, 1, smallVanilla(28, "float32"))
	good := randomBatch(p, 2, 1)
	for _, c := range []struct {
		name string
		x    *sdk.Tensor
		want string
	}{
		{"size", sdk.NewTensor(sdk.Float32, 2, 1, 32, 32), "expected float32 [? 1 28 28], received float32 [2 1 32 32]"},
		{"rank", sdk.NewTensor(sdk.Float32, 2, 784), "received float32 [2 784]"},
		{"dtype", sdk.NewTensor(sdk.Float64, 2, 1, 28, 28), "received float64 [2 1 28 28]"},
		{"empty", sdk.NewTensor(sdk.Float32, 0, 1, 28, 28), "empty batch"},
		{"length", &sdk.Tensor{DType: sdk.Float32, Shape: []int{2, 1, 28, 28}, F32: make([]float32, 5)}, "holds 5 values"},
	} {
		_, err1 := p.Energy(ctx, c.x)
		_, _, err2 := p.Grad(ctx, c.x)
		_, err3 := p.Update(ctx, sdk.UpdateRequest{Pos: good, Neg: c.x, LR: 0.1})
		for i, err := range []error{err1, err2, err3} {
			op := []string{"energy", "grad", "update"}[i]
			if !errors.Is(err, sdk.ErrShape) || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), op) {
				t.Errorf("%s: %s: got %v, want ErrShape mentioning %q", c.name, op, err, c.want)
			}
		}
	}
}

func TestNonFiniteInput(t *testing.T) {
	ctx := context.Background()
	p := configured(t, 1, toy("float64"))
	good := randomBatch(p, 3, 1)
	before := snapshot(p)
	for _, v := range []float64{math.NaN(), math.Inf(1)} {
		x := randomBatch(p, 3, 2)
		x.F64[4] = v
		_, err1 := p.Energy(ctx, x)
		_, _, err2 := p.Grad(ctx, x)
		_, err3 := p.Update(ctx, sdk.UpdateRequest{Pos: x, Neg: good, LR: 0.1})
		for i, err := range []error{err1, err2, err3} {
			op := []string{"energy", "grad", "update"}[i]
			if !errors.Is(err, sdk.ErrNonFinite) || !strings.HasPrefix(err.Error(), op+":") {
				t.Errorf("%v: %s: got %v, want ErrNonFinite naming %q", v, op, err, op)
			}
		}
	}
	if _, err := p.Update(ctx, sdk.UpdateRequest{Pos: good, Neg: good, LR: math.NaN()}); !errors.Is(err, sdk.ErrNonFinite) {
		t.Errorf("NaN learning rate: %v", err)
	}
	if !equalSnapshots(before, snapshot(p)) {
		t.Error("a refused update changed the weights")
	}
}

func TestNonFiniteOutput(t *testing.T) {
	// Finite inputs whose energy overflows: huge weights in float32.
	ctx := context.Background()
	p := configured(t, 1, toy("float32"))
	for _, q := range p.params {
		d := q.Value.Data().([]float32)
		for i := range d {
			d[i] = 1e30
		}
	}
	p.weightsChanged()
	x := randomBatch(p, 2, 1)
	for i := range x.F32 {
		x.F32[i] = 1
	}
	_, err1 := p.Energy(ctx, x)
	_, _, err2 := p.Grad(ctx, x)
	_, err3 := p.Update(ctx, sdk.UpdateRequest{Pos: x, Neg: x, LR: 0.1})
	for i, err := range []error{err1, err2, err3} {
		op := []string{"energy", "grad", "update"}[i]
		if !errors.Is(err, sdk.ErrNonFinite) || !strings.HasPrefix(err.Error(), op+":") {
			t.Errorf("%s: got %v, want ErrNonFinite naming %q", op, err, op)
		}
	}
}

func TestNotConfigured(t *testing.T) {
	p := New()
	x := sdk.NewTensor(sdk.Float32, 1, 2)
	if _, err := p.Energy(context.Background(), x); !errors.Is(err, errNotConfigured) {
		t.Errorf("energy before configure: %v", err)
	}
	if _, err := p.SaveState(context.Background()); !errors.Is(err, errNotConfigured) {
		t.Errorf("save before configure: %v", err)
	}
}

func equalSnapshots(a, b [][]float64) bool {
	for i := range a {
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}
