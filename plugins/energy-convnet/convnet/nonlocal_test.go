package convnet

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// randomNonlocal returns a float64 nonlocal net (three channels with rgb)
// with random weights, W included, so that the attention carries gradient.
func randomNonlocal(t *testing.T, rgb bool) *Plugin {
	t.Helper()
	a := smallNonlocal("float64")
	if rgb {
		a["channels"] = 3
	}
	p := configured(t, 13, a)
	if err := p.LoadState(context.Background(), randomWeights(p, 17)); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNonlocalGradFiniteDifference(t *testing.T) {
	for _, rgb := range []bool{false, true} {
		p := randomNonlocal(t, rgb)
		x := randomBatch(p, 3, 5)
		f, g, err := p.Grad(context.Background(), x)
		if err != nil {
			t.Fatal(err)
		}
		fe, err := p.Energy(context.Background(), x)
		if err != nil {
			t.Fatal(err)
		}
		if e := relErr(f.F64, fe.F64); e > 1e-14 {
			t.Errorf("F from Grad and Energy differ: relative error %g", e)
		}
		rng := rand.New(rand.NewPCG(3, 4))
		k := 120
		var an, fd []float64
		for _, i := range rng.Perm(x.Len())[:k] {
			x0 := x.F64[i]
			x.F64[i] = x0 + fdStep
			fp := sumEnergy(t, p, x)
			x.F64[i] = x0 - fdStep
			fm := sumEnergy(t, p, x)
			x.F64[i] = x0
			an = append(an, g.F64[i])
			fd = append(fd, (fp-fm)/(2*fdStep))
		}
		e := relErr(an, fd)
		t.Logf("channels %d: dF/dx relative error %.2g over %d coordinates", p.arch.Input[0], e, k)
		if e > 1e-5 {
			t.Errorf("channels %d: dF/dx relative error %g against central differences", p.arch.Input[0], e)
		}
	}
}

func TestNonlocalWeightGradFiniteDifference(t *testing.T) {
	p := randomNonlocal(t, false)
	pos, neg := randomBatch(p, 3, 1), randomBatch(p, 2, 2)
	p.mu.Lock()
	_, grads, err := p.lossGrad(pos, neg)
	p.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	var worst float64
	for i, q := range p.params {
		w := q.Value.Data().([]float64)
		g := grads[i].Data().([]float64)
		k := min(12, len(w))
		an, fd := fdWeights(t, p, pos, neg, w, g, rng.Perm(len(w))[:k])
		// These gradients are 0 in exact arithmetic (zeroGrad): the
		// difference quotient is rounding noise of order 1e-16*|L|/h.
		if zeroGrad(q.Name) {
			if maxAbs(an) > 1e-12 || maxAbs(fd) > 1e-8 {
				t.Errorf("%s: gradient up to %g, difference quotients up to %g, want 0", q.Name, maxAbs(an), maxAbs(fd))
			}
			continue
		}
		e := relErr(an, fd)
		worst = max(worst, e)
		if e > 1e-5 {
			t.Errorf("%s: relative error %g against central differences", q.Name, e)
		}
	}
	t.Logf("weights: worst relative error %.2g", worst)
}

// TestNonlocalInit checks the default initialisation: W of each block
// zero, every other weight and bias within PyTorch's U(-1/sqrt(fan_in),
// 1/sqrt(fan_in)) and spread over it.
func TestNonlocalInit(t *testing.T) {
	p := configured(t, 3, attrs{"net": "nonlocal", "epsilon": 0.0075})
	if got, want := p.NumParams(), nonlocalParams(1, 32); got != want {
		t.Errorf("%d parameters, want %d", got, want)
	}
	for i, q := range p.params {
		l := p.arch.Layers[i/2]
		v := values(q.Value)
		if strings.Contains(q.Name, ".W.") {
			if maxAbs(v) != 0 {
				t.Errorf("%s: not zero", q.Name)
			}
			continue
		}
		b := 1 / math.Sqrt(float64(l.fanIn()))
		if m := maxAbs(v); m > b || (len(v) >= 32 && m < 0.8*b) {
			t.Errorf("%s: largest |value| %g, want within and near %g", q.Name, m, b)
		}
	}
}

// nonlocalParams counts the reference NonlocalNet's parameters by hand.
func nonlocalParams(nc, nf int) int {
	conv := func(in, out, k int) int { return out*in*k*k + out }
	block := func(c int) int { i := c / 2; return 3*conv(c, i, 1) + conv(i, c, 1) }
	return conv(nc, nf, 3) + block(nf) + conv(nf, 2*nf, 3) + block(2*nf) + conv(2*nf, 4*nf, 3) +
		conv(4*nf*16, 8*nf, 1) + conv(8*nf, 1, 1)
}

// TestExp32 checks exp32 against math.Exp over [-90, 0].
func TestExp32(t *testing.T) {
	var worst float64
	for k := 0; k <= 900000; k++ {
		x := float32(-float64(k) / 10000)
		got, want := float64(exp32(x)), math.Exp(float64(x))
		if x < -87.3 { // near the end of the normal range exp32 returns 0
			if got != 0 {
				t.Fatalf("exp32(%g) = %g, want 0", x, got)
			}
			continue
		}
		worst = max(worst, math.Abs(got-want)/want)
	}
	t.Logf("worst relative error %.2g", worst)
	if worst > 5e-7 {
		t.Errorf("exp32: worst relative error %g", worst)
	}
}

// TestNonlocalChunks checks that a batch larger than nlChunk, which Energy
// and Grad run in chunks, gives each sample the bits it gets in a small
// batch.
func TestNonlocalChunks(t *testing.T) {
	ctx := context.Background()
	p := configured(t, 7, attrs{"net": "nonlocal", "n_f": 2, "epsilon": 0.015})
	n := nlChunk + 9
	x := randomBatch(p, n, 8)
	f, g, err := p.Grad(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	fe, err := p.Energy(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	per := x.Len() / n
	for _, i0 := range []int{0, nlChunk - 2, n - 3} {
		small := sdk.FromFloat32(append([]float32(nil), x.F32[i0*per:(i0+3)*per]...), append([]int{3}, p.arch.Input...)...)
		fs, gs, err := p.Grad(ctx, small)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if fs.F32[i] != f.F32[i0+i] || fs.F32[i] != fe.F32[i0+i] {
				t.Fatalf("sample %d: F %v in a batch of %d (Energy %v), %v in a batch of 3", i0+i, f.F32[i0+i], n, fe.F32[i0+i], fs.F32[i])
			}
		}
		for j := range gs.F32 {
			if gs.F32[j] != g.F32[i0*per+j] {
				t.Fatalf("samples %d-%d: dF/dx differs at %d between a batch of %d and one of 3", i0, i0+2, j, n)
			}
		}
	}
}
