package convnet

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// gradBits returns F and dF/dx of x as float32 bits, or fails.
func gradBits(t *testing.T, p *Plugin, x *sdk.Tensor) []float32 {
	t.Helper()
	f, g, err := p.Grad(context.Background(), x)
	if err != nil {
		t.Error(err)
		return nil
	}
	return append(append([]float32(nil), f.F32...), g.F32...)
}

// sameBits reports whether a and b hold the same float32 values, bit for
// bit.
func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestToyRepeatable checks that the toy path's results do not depend on
// what its workspaces held: repeated calls, and calls after larger and
// smaller batches, give the same bits as the first call of a fresh plugin,
// and a sample's result does not depend on the batch it is in.
func TestToyRepeatable(t *testing.T) {
	p := configured(t, 41, toy("float32"))
	big, small := toyBatch(p, 300, 1), toyBatch(p, 5, 2)
	first := gradBits(t, p, small)
	gradBits(t, p, big)
	for i := 0; i < 3; i++ {
		if got := gradBits(t, p, small); !sameBits(got, first) {
			t.Fatalf("call %d after a larger batch differs from the first call", i+2)
		}
	}
	// The same five samples inside the large batch.
	copy(big.F32[100*2:], small.F32)
	f, g, err := p.Grad(context.Background(), big)
	if err != nil {
		t.Fatal(err)
	}
	inBig := append(append([]float32(nil), f.F32[100:105]...), g.F32[200:210]...)
	if !sameBits(inBig, first) {
		t.Error("samples give other bits inside a larger batch")
	}
}

// TestToyConcurrent runs Energy and Grad on one plugin from several
// goroutines at once (sdk.Energy allows it; the toy path runs them under a
// read lock, each with its own workspace), interleaved with updates, and
// checks every result against the same call made alone on a plugin with
// the same weights. Run with -race to check the locking.
func TestToyConcurrent(t *testing.T) {
	ctx := context.Background()
	p := configured(t, 43, toy("float32"))
	ref := configured(t, 43, toy("float32"))
	xs := []*sdk.Tensor{toyBatch(p, 3, 1), toyBatch(p, 100, 2), toyBatch(p, 260, 3)}
	var want [][]float32
	for _, x := range xs {
		want = append(want, gradBits(t, ref, x))
	}
	const rounds = 20
	errs := make(chan error, 2*len(xs))
	for i, x := range xs {
		go func() {
			for r := 0; r < rounds; r++ {
				f, g, err := p.Grad(ctx, x)
				if err == nil && !sameBits(append(append([]float32(nil), f.F32...), g.F32...), want[i]) {
					err = fmt.Errorf("concurrent Grad on batch %d: other bits than alone", i)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
		go func() {
			for r := 0; r < rounds; r++ {
				f, err := p.Energy(ctx, x)
				if err == nil && !sameBits(f.F32, want[i][:x.Batch()]) {
					err = fmt.Errorf("concurrent Energy on batch %d: other bits than alone", i)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 2 * len(xs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	// Updates interleaved with gradient calls: each call sees the weights
	// before or after a step, never a mixture, so whatever it returns
	// matches one of the plugins that took 0, 1, ... steps.
	var snaps [][]float32
	req := sdk.UpdateRequest{Pos: xs[1], Neg: xs[2], LR: 0.05}
	for s := 0; s <= 3; s++ {
		snaps = append(snaps, gradBits(t, ref, xs[1]))
		if _, err := ref.Update(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan []float32)
	go func() {
		for r := 0; r < rounds; r++ {
			done <- gradBits(t, p, xs[1])
		}
		close(done)
	}()
	var got [][]float32
	for s := 0; s < 3; s++ {
		got = append(got, <-done)
		if _, err := p.Update(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	for g := range done {
		got = append(got, g)
	}
	for _, g := range got {
		ok := false
		for _, w := range snaps {
			ok = ok || sameBits(g, w)
		}
		if !ok {
			t.Fatal("a Grad concurrent with updates matches no weights the updates went through")
		}
	}
}
