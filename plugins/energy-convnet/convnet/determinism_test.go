package convnet

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// TestBitIdenticalAcrossWorkers checks that dF/dx and the weight update do
// not depend on the number of goroutines or their scheduling: the work
// partition is fixed by the shapes and no reduction is split across
// goroutines, so one, two and four workers give the same bits.
func TestBitIdenticalAcrossWorkers(t *testing.T) {
	// n_f 8 runs the packed-GEMM paths; n_f 32 the in-place and direct
	// kernels (channels and filters multiples of 32) and the transposed
	// filter gradient of the first layer.
	for _, nf := range []int{8, 32} {
		t.Run(fmt.Sprintf("nf%d", nf), func(t *testing.T) {
			bitIdentical(t, attrs{"net": "vanilla", "epsilon": 0.015, "n_f": nf, "image_size": 28}, 37, 19)
		})
	}
	// The toy net's dedicated path: 300 samples are three tasks, and the
	// update's 490 four, besides its weight-gradient tiles.
	t.Run("toy", func(t *testing.T) { bitIdentical(t, toy("float32"), 300, 190) })
	// The nonlocal net's dedicated path: its own pooling and attention
	// tasks besides the kernels.
	t.Run("nonlocal", func(t *testing.T) {
		bitIdentical(t, attrs{"net": "nonlocal", "epsilon": 0.015, "n_f": 8}, 37, 19)
	})
}

// bitIdentical runs Grad on n samples and an update on m positives and the
// same n negatives with 1, 2 and 4 workers and compares the bits.
func bitIdentical(t *testing.T, a attrs, n, m int) {
	run := func(procs int) ([]float32, []float32, [][]float64) {
		old := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(old)
		p := configured(t, 5, a)
		x := randomBatch(p, n, 3)
		f, g, err := p.Grad(context.Background(), x)
		if err != nil {
			t.Fatal(err)
		}
		req := sdk.UpdateRequest{Pos: randomBatch(p, m, 4), Neg: x, LR: 0.01}
		if _, err := p.Update(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		return f.F32, g.F32, snapshot(p)
	}
	f1, g1, w1 := run(1)
	for _, procs := range []int{2, 4, 2} {
		f, g, w := run(procs)
		for i := range f1 {
			if f[i] != f1[i] {
				t.Fatalf("GOMAXPROCS %d: F[%d] = %v, with one worker %v", procs, i, f[i], f1[i])
			}
		}
		for i := range g1 {
			if g[i] != g1[i] {
				t.Fatalf("GOMAXPROCS %d: dF/dx[%d] = %v, with one worker %v", procs, i, g[i], g1[i])
			}
		}
		if !equalSnapshots(w1, w) {
			t.Fatalf("GOMAXPROCS %d: weights after the update differ from one worker's", procs)
		}
	}
}
