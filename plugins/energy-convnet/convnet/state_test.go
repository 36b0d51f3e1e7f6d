package convnet

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

func TestSaveLoadBitIdentical(t *testing.T) {
	for _, a := range []attrs{smallVanilla(32, "float32"), {"net": "toy", "epsilon": 0.01, "optimizer": "adam"},
		{"net": "nonlocal", "n_f": 4, "epsilon": 0.01, "optimizer": "adam"}} {
		t.Run(name(a), func(t *testing.T) {
			ctx := context.Background()
			p := configured(t, 31, a)
			pos, neg := randomBatch(p, 4, 1), randomBatch(p, 4, 2)
			req := sdk.UpdateRequest{Pos: pos, Neg: neg, LR: 0.01}
			if _, err := p.Update(ctx, req); err != nil {
				t.Fatal(err)
			}
			st, err := p.SaveState(ctx)
			if err != nil {
				t.Fatal(err)
			}
			q := configured(t, 99, a) // another seed: every weight must come from the state
			if err := q.LoadState(ctx, st); err != nil {
				t.Fatal(err)
			}
			x := randomBatch(p, 5, 3)
			fp, _ := p.Energy(ctx, x)
			fq, _ := q.Energy(ctx, x)
			if !reflect.DeepEqual(fp, fq) {
				t.Fatalf("energies after load differ: %v vs %v", fp.F32, fq.F32)
			}
			// Training continues bit for bit (Adam moments and step included).
			rp, err1 := p.Update(ctx, req)
			rq, err2 := q.Update(ctx, req)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if rp != rq {
				t.Errorf("update after load differs: %+v vs %+v", rp, rq)
			}
			if !reflect.DeepEqual(snapshot(p), snapshot(q)) {
				t.Error("weights after a further update differ")
			}
		})
	}
}

func TestLoadStateMismatch(t *testing.T) {
	ctx := context.Background()
	p := configured(t, 1, smallVanilla(32, "float32"))
	st, err := p.SaveState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Another net: refused by the settings in Meta.
	q := configured(t, 1, smallVanilla(28, "float32"))
	if err := q.LoadState(ctx, st); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("loading a 32x32 state into a 28x28 net: %v", err)
	}
	r := configured(t, 1, attrs{"net": "nonlocal", "n_f": 2, "epsilon": 0.015})
	if err := r.LoadState(ctx, st); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("loading a vanilla state into a nonlocal net: %v", err)
	}
	// Weights only (no Meta): a wrong shape is named.
	bad := &sdk.State{Tensors: map[string]*sdk.Tensor{}}
	for k, v := range st.Tensors {
		bad.Tensors[k] = v
	}
	bad.Tensors["f.2.weight"] = sdk.NewTensor(sdk.Float32, 4, 2, 3, 3)
	err = p.LoadState(ctx, bad)
	if !errors.Is(err, sdk.ErrShape) || !strings.Contains(err.Error(), "f.2.weight") {
		t.Errorf("wrong shape: %v", err)
	}
	// A missing and an unexpected name are both reported.
	delete(bad.Tensors, "f.2.weight")
	bad.Tensors["f.1.weight"] = sdk.NewTensor(sdk.Float32, 1)
	err = p.LoadState(ctx, bad)
	if err == nil || !strings.Contains(err.Error(), `missing ["f.2.weight"]`) || !strings.Contains(err.Error(), `unexpected ["f.1.weight"]`) {
		t.Errorf("wrong names: %v", err)
	}
	// Nothing was changed by the failed loads.
	q2 := configured(t, 1, smallVanilla(32, "float32"))
	if !reflect.DeepEqual(snapshot(p), snapshot(q2)) {
		t.Error("a failed load changed the weights")
	}
}

func TestSeeds(t *testing.T) {
	ctx := context.Background()
	a := smallVanilla(32, "float32")
	p1, p2, p3 := configured(t, 5, a), configured(t, 5, a), configured(t, 6, a)
	if !reflect.DeepEqual(snapshot(p1), snapshot(p2)) {
		t.Error("same seed gave different weights")
	}
	x := randomBatch(p1, 3, 1)
	f1, g1, _ := p1.Grad(ctx, x)
	f2, g2, _ := p2.Grad(ctx, x)
	if !reflect.DeepEqual(f1, f2) || !reflect.DeepEqual(g1, g2) {
		t.Error("same seed gave different outputs")
	}
	w1, w3 := snapshot(p1), snapshot(p3)
	for i := range w1 {
		if reflect.DeepEqual(w1[i], w3[i]) {
			t.Errorf("%s: seeds 5 and 6 gave the same values", p1.params[i].Name)
		}
	}
}

func TestInitBounds(t *testing.T) {
	// Every value lies in [-1/sqrt(fan_in), 1/sqrt(fan_in)] and fills it:
	// with thousands of draws the extremes come within 2% of the bound.
	p := configured(t, 7, attrs{"net": "vanilla", "n_f": 8, "epsilon": 0.01, "dtype": "float64"})
	for i, l := range p.arch.Layers {
		b := 1 / mathSqrt(float64(l.fanIn()))
		w := values(p.params[2*i].Value)
		lo, hi := w[0], w[0]
		for _, v := range w {
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo < -b || hi > b {
			t.Errorf("%s: weights in [%v, %v], bound %v", l.Name, lo, hi, b)
		}
		if len(w) > 1000 && (hi < 0.98*b || lo > -0.98*b) {
			t.Errorf("%s: weights in [%v, %v] do not fill U(-%v, %v)", l.Name, lo, hi, b, b)
		}
		for _, v := range values(p.params[2*i+1].Value) {
			if v < -b || v > b {
				t.Errorf("%s: bias %v outside +-%v", l.Name, v, b)
			}
		}
	}
}

// TestPackedFiltersFollowWeights checks that the filters the ops keep
// packed across calls are packed again whenever the weights change: after
// an Update and after a LoadState, Grad must give the bits a plugin gives
// that never computed anything with the old weights.
func TestPackedFiltersFollowWeights(t *testing.T) {
	a := attrs{"net": "vanilla", "epsilon": 0.015, "n_f": 32, "image_size": 28}
	ctx := context.Background()
	p := configured(t, 41, a)
	x := randomBatch(p, 6, 1)
	grad := func(p *Plugin) ([]float32, []float32) {
		f, g, err := p.Grad(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		return f.F32, g.F32
	}
	grad(p) // packs the filters
	req := sdk.UpdateRequest{Pos: randomBatch(p, 6, 2), Neg: x, LR: 0.05}
	if _, err := p.Update(ctx, req); err != nil {
		t.Fatal(err)
	}
	f1, g1 := grad(p)
	st, err := p.SaveState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fresh := configured(t, 41, a)
	if err := fresh.LoadState(ctx, st); err != nil {
		t.Fatal(err)
	}
	f2, g2 := grad(fresh)
	if !reflect.DeepEqual(f1, f2) || !reflect.DeepEqual(g1, g2) {
		t.Fatal("Grad after an Update differs from a fresh plugin's with the same weights")
	}
	// LoadState into a plugin that has packed its filters already.
	q := configured(t, 7, a)
	grad(q)
	if err := q.LoadState(ctx, st); err != nil {
		t.Fatal(err)
	}
	f3, g3 := grad(q)
	if !reflect.DeepEqual(f1, f3) || !reflect.DeepEqual(g1, g3) {
		t.Fatal("Grad after a LoadState differs from a fresh plugin's with the same weights")
	}
}
