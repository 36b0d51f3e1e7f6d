package mnist

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/plugins/data-mnist/toy"
	"github.com/ebmflow/ebmflow/sdk"
)

// TestDegenerateDescribe: points and segment have a plot box but no
// density, and LogDensity says so with ErrUnsupported.
func TestDegenerateDescribe(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{DatasetPoints, DatasetSegment} {
		p := configured(t, 1, map[string]any{"dataset": name})
		info, err := p.Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(info.Shape, []int{2}) || info.Size != 0 || info.HasDensity || len(info.Box) != 2 || info.Box[0] != [2]float64{-1.6, 1.6} || info.Box[1] != info.Box[0] {
			t.Fatalf("%s: describe %+v", name, info)
		}
		_, err = p.LogDensity(ctx, sdk.FromFloat32([]float32{1, 0}, 1, 2))
		if !errors.Is(err, sdk.ErrUnsupported) || !strings.Contains(err.Error(), "no density in the plane") {
			t.Fatalf("%s: log-density gave %v, want ErrUnsupported", name, err)
		}
	}
}

// TestDegenerateSupport: without data noise every positive lies exactly on
// the set (one of the 8 points; y = 0 and x in [-1, 1) on the segment).
func TestDegenerateSupport(t *testing.T) {
	pts := toy.NewPoints()
	p := configured(t, 3, map[string]any{"dataset": DatasetPoints, "dtype": "float64"})
	x := next(t, p, sdk.NextRequest{N: 2000})
	seen := map[int]bool{}
	for i := range 2000 {
		k := slices.IndexFunc([]int{0, 1, 2, 3, 4, 5, 6, 7}, func(k int) bool {
			px, py := pts.Point(k)
			return x.F64[2*i] == px && x.F64[2*i+1] == py
		})
		if k < 0 {
			t.Fatalf("positive %d at (%v, %v) is none of the 8 points", i, x.F64[2*i], x.F64[2*i+1])
		}
		seen[k] = true
	}
	if len(seen) != 8 {
		t.Errorf("2000 draws hit %d of the 8 points", len(seen))
	}
	p = configured(t, 3, map[string]any{"dataset": DatasetSegment})
	x = next(t, p, sdk.NextRequest{N: 2000})
	for i := range 2000 {
		if x.F32[2*i+1] != 0 || x.F32[2*i] < -1 || x.F32[2*i] > 1 {
			t.Fatalf("positive %d at (%v, %v) is off the segment", i, x.F32[2*i], x.F32[2*i+1])
		}
	}
}

// TestToyDataNoise: with data_noise the positives are x_k + eps_data*Q.
// Points with eps 0.05: the nearest point (0.38 = 7.6 sd away from the
// midpoint between two) gives the residual, 2 x 20,000 N(0, 0.05^2)
// values; segment with eps 0.25: y itself is the noise. Mean and sd are
// checked to 5 standard errors (sd/sqrt(n) and sd/sqrt(2n)).
func TestToyDataNoise(t *testing.T) {
	const n = 20_000
	check := func(name string, r []float64, eps float64) {
		t.Helper()
		var s, s2 float64
		for _, v := range r {
			s += v
			s2 += v * v
		}
		m := float64(len(r))
		mean := s / m
		sd := math.Sqrt(s2/m - mean*mean)
		if math.Abs(mean) > 5*eps/math.Sqrt(m) || math.Abs(sd-eps) > 5*eps/math.Sqrt(2*m) {
			t.Errorf("%s: noise mean %.5f sd %.5f, want 0 and %v", name, mean, sd, eps)
		}
	}
	pts := toy.NewPoints()
	p := configured(t, 4, map[string]any{"dataset": DatasetPoints, "data_noise": 0.05, "dtype": "float64"})
	x := next(t, p, sdk.NextRequest{N: n})
	r := make([]float64, 0, 2*n)
	for i := range n {
		best, bx, by := math.Inf(1), 0.0, 0.0
		for k := range 8 {
			px, py := pts.Point(k)
			if d := math.Hypot(x.F64[2*i]-px, x.F64[2*i+1]-py); d < best {
				best, bx, by = d, px, py
			}
		}
		r = append(r, x.F64[2*i]-bx, x.F64[2*i+1]-by)
	}
	check("points", r, 0.05)
	p = configured(t, 4, map[string]any{"dataset": DatasetSegment, "data_noise": 0.25, "dtype": "float64"})
	x = next(t, p, sdk.NextRequest{N: n})
	r = r[:0]
	for i := range n {
		r = append(r, x.F64[2*i+1])
	}
	check("segment", r, 0.25)
}

// TestToyDataNoiseStream: the point and its noise come from the stage's
// seeded stream "next/positives" in this order: the point's index, then
// Q's two coordinates; the same seed repeats them exactly, another seed
// does not, and a saved state resumes them.
func TestToyDataNoiseStream(t *testing.T) {
	const eps = 0.25
	attrs := map[string]any{"dataset": DatasetPoints, "data_noise": eps, "dtype": "float64"}
	x := next(t, configured(t, 17, attrs), sdk.NextRequest{N: 50})
	rng := sdk.NewStream(17, "next/positives")
	pts := toy.NewPoints()
	for i := range 50 {
		px, py := pts.Point(rng.IntN(8))
		px += eps * rng.NormFloat64()
		py += eps * rng.NormFloat64()
		if x.F64[2*i] != px || x.F64[2*i+1] != py {
			t.Fatalf("positive %d: (%v, %v), want (%v, %v) from the seeded stream", i, x.F64[2*i], x.F64[2*i+1], px, py)
		}
	}
	if y := next(t, configured(t, 17, attrs), sdk.NextRequest{N: 50}); !slices.Equal(x.F64, y.F64) {
		t.Fatal("the same seed gave other positives")
	}
	if y := next(t, configured(t, 18, attrs), sdk.NextRequest{N: 50}); slices.Equal(x.F64, y.F64) {
		t.Fatal("another seed gave the same positives")
	}
	roundTrip(t, map[string]any{"dataset": DatasetPoints, "data_noise": eps}, []int{5, 9})
	roundTrip(t, map[string]any{"dataset": DatasetSegment, "data_noise": eps}, []int{4})
}
