package langevin

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/internal/testplugins"
	"github.com/ebmflow/ebmflow/sdk"
)

// TestNonFinite checks that a NaN or infinite gradient, energy (MALA) or
// sample stops the chains with an error wrapping sdk.ErrNonFinite that names
// the step and the number of chains affected, and leaves the bank alone.
func TestNonFinite(t *testing.T) {
	cases := []struct {
		name   string
		vals   map[string]any
		hook   func(call int, x, f, g *sdk.Tensor) error
		expect string
	}{{
		name: "NaN gradient",
		vals: map[string]any{},
		hook: func(call int, x, f, g *sdk.Tensor) error {
			if call == 3 {
				g.Set(1*2, math.NaN()) // chain 1
				g.Set(4*2+1, math.Inf(1))
			}
			return nil
		},
		expect: "step 3 of 6: dF/dx: non-finite value in 2 of 5 chains",
	}, {
		// A finite gradient of -3e38 twice in a row pushes chain 0 past the
		// float32 range at step 2.
		name: "overflowing sample",
		vals: map[string]any{},
		hook: func(call int, x, f, g *sdk.Tensor) error {
			g.Set(0, -3e38)
			return nil
		},
		expect: "step 2 of 6: sample: non-finite value in 1 of 5 chains",
	}, {
		name: "NaN energy under MALA",
		vals: map[string]any{"mala": true},
		hook: func(call int, x, f, g *sdk.Tensor) error {
			if call == 4 { // the proposal of step 3
				f.Set(2, math.NaN())
			}
			return nil
		},
		expect: "step 3 of 6: F or dF/dx: non-finite value in 1 of 5 chains",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vals := map[string]any{"epsilon": 0.1, "steps": 6, "batch": 5, "init": "persistent", "bank_size": 5}
			for k, v := range c.vals {
				vals[k] = v
			}
			s := configured(t, config(t, 2, vals, []int{2}, quad(0.5, []float64{0, 0}, c.hook), nil))
			s.mu.Lock()
			s.ensureBank()
			bank := s.bank.Clone()
			s.mu.Unlock()
			_, err := s.Sample(context.Background(), sdk.SampleRequest{})
			if !errors.Is(err, sdk.ErrNonFinite) {
				t.Fatalf("error %v, want one wrapping sdk.ErrNonFinite", err)
			}
			if !strings.Contains(err.Error(), c.expect) {
				t.Errorf("error %q does not say %q", err, c.expect)
			}
			if !sameTensor(bank, s.bank) {
				t.Errorf("failed sample wrote to the bank")
			}
		})
	}
}

// TestEnergyErrorMidChain checks that an energy error is reported with the
// step number and stays reachable with errors.Is.
func TestEnergyErrorMidChain(t *testing.T) {
	boom := errors.New("connection reset")
	for _, mala := range []bool{false, true} {
		q := quad(0.5, []float64{0}, func(call int, x, f, g *sdk.Tensor) error {
			if call == 4 {
				return boom
			}
			return nil
		})
		s := configured(t, config(t, 2, map[string]any{"epsilon": 0.1, "steps": 10, "batch": 3, "mala": mala}, []int{1}, q, nil))
		_, err := s.Sample(context.Background(), sdk.SampleRequest{})
		if !errors.Is(err, boom) {
			t.Fatalf("mala=%v: error %v does not wrap the energy's error", mala, err)
		}
		// Without MALA call 4 is step 4; with MALA it is the proposal of step 3.
		want := "step 4 of 10: energy gradient: connection reset"
		if mala {
			want = "step 3 of 10: energy gradient: connection reset"
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("mala=%v: error %q does not say %q", mala, err, want)
		}
	}
}

// wrongShape is an energy that answers with a gradient of the wrong shape.
type wrongShape struct{ *testplugins.Quadratic }

func (w *wrongShape) Grad(ctx context.Context, x *sdk.Tensor) (*sdk.Tensor, *sdk.Tensor, error) {
	return sdk.NewTensor(x.DType, x.Batch()), sdk.NewTensor(x.DType, x.Batch(), 7), nil
}

// GradInto answers as Grad does, in new tensors (storage of the right
// shape cannot hold the wrong answer), overriding the quadratic's.
func (w *wrongShape) GradInto(ctx context.Context, x, f, dfdx *sdk.Tensor) (*sdk.Tensor, *sdk.Tensor, error) {
	return w.Grad(ctx, x)
}

func TestEnergyWrongShape(t *testing.T) {
	s := configured(t, config(t, 2, map[string]any{"epsilon": 0.1, "steps": 2, "batch": 3}, []int{2}, &wrongShape{testplugins.NewQuadraticAt(0.5, 0, 0)}, nil))
	_, err := s.Sample(context.Background(), sdk.SampleRequest{})
	if !errors.Is(err, sdk.ErrShape) || !strings.Contains(err.Error(), "step 1 of 2") {
		t.Fatalf("error %v, want a step-1 error wrapping sdk.ErrShape", err)
	}
}

func TestContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	q := quad(0.5, []float64{0}, func(call int, x, f, g *sdk.Tensor) error {
		if call == 2 {
			cancel()
		}
		return nil
	})
	s := configured(t, config(t, 2, map[string]any{"epsilon": 0.1, "steps": 10, "batch": 3}, []int{1}, q, nil))
	if _, err := s.Sample(ctx, sdk.SampleRequest{}); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "step 3") {
		t.Fatalf("error %v, want context.Canceled at step 3", err)
	}
}
