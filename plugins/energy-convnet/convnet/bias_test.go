package convnet

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSumBias checks the bias gradient (blocked, parallel, AVX2 for float32
// when the channels are a multiple of 8) against a float64 sum, with and
// without the LeakyReLU derivative, for channel counts on and off the
// vector width and row counts that leave partial blocks.
func TestSumBias(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range []int{1, 3, 8, 32, 40, 64, 256} {
		for _, rows := range []int{1, 63, 64, 65, 1000, 3*biasBlock*16 + 7} {
			for _, act := range []bool{false, true} {
				g, y := randSlice(rng, rows*c), randSlice(rng, rows*c)
				want := make([]float64, c)
				for r := 0; r < rows; r++ {
					for j := 0; j < c; j++ {
						v := float64(float32(g[r*c+j]))
						if act && !(float32(y[r*c+j]) > 0) {
							v = float64(float32(0.05) * float32(g[r*c+j]))
						}
						want[j] += v
					}
				}
				got := make([]float32, c)
				sumBias(got, gradAt[float32]{g: to32(g), y: to32(y), slope: 0.05, act: act}, c, &convWork[float32]{})
				got64 := make([]float64, c)
				sumBias(got64, gradAt[float64]{g: g, y: y, slope: 0.05, act: act}, c, &convWork[float64]{})
				for j := range want {
					tol := 1e-5 * (1 + math.Sqrt(float64(rows)))
					if d := math.Abs(float64(got[j]) - want[j]); d > tol {
						t.Fatalf("c %d rows %d act %v: float32 db[%d] = %v, want %v", c, rows, act, j, got[j], want[j])
					}
					ref := 0.0
					for r := 0; r < rows; r++ {
						v := g[r*c+j]
						if act && !(y[r*c+j] > 0) {
							v *= 0.05
						}
						ref += v
					}
					if d := math.Abs(got64[j] - ref); d > 1e-12*(1+math.Abs(ref)) {
						t.Fatalf("c %d rows %d act %v: float64 db[%d] = %v, want %v", c, rows, act, j, got64[j], ref)
					}
				}
			}
		}
	}
}
