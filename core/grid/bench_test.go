package grid

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

func BenchmarkImages(b *testing.B) {
	// The reference's 10x10 grids: MNIST (1x32x32) and colour (3x32x32).
	for _, c := range []int{1, 3} {
		b.Run(fmt.Sprintf("100x%dx32x32", c), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			x := sdk.NewTensor(sdk.Float32, 100, c, 32, 32)
			for i := range x.F32 {
				x.F32[i] = float32(rng.Float64()*2 - 1)
			}
			path := filepath.Join(b.TempDir(), "g.png")
			for b.Loop() {
				if err := Images(path, x, 10, 10); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPoints(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			x := sdk.NewTensor(sdk.Float32, n, 2)
			for i := range x.F32 {
				x.F32[i] = float32(rng.NormFloat64())
			}
			path := filepath.Join(b.TempDir(), "p.png")
			for b.Loop() {
				if err := Points(path, x, [2]float64{-4, 4}, 400); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
