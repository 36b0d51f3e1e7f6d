package tv

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestTVSelfAndShift(t *testing.T) {
	// A distribution on a 3x3 grid (row-major) and the same distribution
	// shifted one cell to the right (the right-most column wraps off, so the
	// shifted copy is built by hand).
	p := []float64{
		0.2, 0.3, 0,
		0.1, 0.4, 0,
		0, 0, 0,
	}
	q := []float64{
		0, 0.2, 0.3,
		0, 0.1, 0.4,
		0, 0, 0,
	}
	if d, err := TV(p, p); err != nil || d != 0 {
		t.Fatalf("TV(p, p) = %v, %v; want 0", d, err)
	}
	// Hand: 0.5 * (|0.2-0| + |0.3-0.2| + |0-0.3| + |0.1-0| + |0.4-0.1| + |0-0.4|)
	//     = 0.5 * (0.2 + 0.1 + 0.3 + 0.1 + 0.3 + 0.4) = 0.7.
	if d, err := TV(p, q); err != nil || math.Abs(d-0.7) > 1e-15 {
		t.Fatalf("TV(p, shifted p) = %v, %v; want 0.7", d, err)
	}
	// Scaling either argument does not change the distance.
	q2 := make([]float64, len(q))
	for i := range q {
		q2[i] = 5 * q[i]
	}
	if d, _ := TV(p, q2); math.Abs(d-0.7) > 1e-15 {
		t.Errorf("TV with unnormalised weights = %v, want 0.7", d)
	}
	if _, err := TV(p, q[:3]); !errors.Is(err, ErrInput) {
		t.Errorf("length mismatch: err = %v", err)
	}
	if _, err := TV(p, []float64{-1, 0, 0, 0, 0, 0, 0, 0, 2}); !errors.Is(err, ErrInput) {
		t.Errorf("negative weight: err = %v", err)
	}
}

func TestSoftmax(t *testing.T) {
	// U = [0, ln 2, ln 4]: exp(-U) = [1, 1/2, 1/4], total 7/4, so the grid
	// distribution is [4/7, 2/7, 1/7]; adding a constant to U changes nothing.
	for _, shift := range []float64{0, 1000} {
		l := []float64{-shift, -(math.Ln2 + shift), -(2*math.Ln2 + shift)}
		p, err := Softmax(nil, l)
		if err != nil {
			t.Fatal(err)
		}
		want := []float64{4.0 / 7, 2.0 / 7, 1.0 / 7}
		for i := range want {
			// 1000 + ln 2 rounds in its last bit, so allow ~1e-13 there.
			if math.Abs(p[i]-want[i]) > 1e-15+shift*1e-16 {
				t.Errorf("shift %v: p = %v, want %v", shift, p, want)
			}
		}
	}
	if _, err := Softmax(nil, []float64{0, math.NaN()}); !errors.Is(err, ErrInput) {
		t.Errorf("NaN log-weight: err = %v", err)
	}
}

func TestGrid(t *testing.T) {
	g := Square(-1, 1, 4)
	if g.CellWidth() != 0.5 || g.CellHeight() != 0.5 || g.CentreX(0) != -0.75 || g.CentreY(3) != 0.75 {
		t.Errorf("cell %v x %v, centres %v %v", g.CellWidth(), g.CellHeight(), g.CentreX(0), g.CentreY(3))
	}
	pts := g.Points(nil)
	// Cell (ix=1, iy=2) has index 9 and centre (-0.25, 0.25).
	if pts[18] != -0.25 || pts[19] != 0.25 {
		t.Errorf("cell 9 centre = (%v, %v)", pts[18], pts[19])
	}
	for c := 0; c < 16; c++ {
		if got, ok := g.Cell(pts[2*c], pts[2*c+1]); !ok || got != c {
			t.Errorf("Cell(centre of %d) = %d, %v", c, got, ok)
		}
	}
	if c, ok := g.Cell(1, 1); !ok || c != 15 {
		t.Errorf("upper corner in cell %d, %v; want 15", c, ok)
	}
	for _, p := range [][2]float64{{1.01, 0}, {0, -1.01}, {math.NaN(), 0}} {
		if _, ok := g.Cell(p[0], p[1]); ok {
			t.Errorf("%v inside the box", p)
		}
	}
	sub := g.SubPoints(nil, 2)
	// Cell 0 = [-1,-0.5]^2; its 2x2 midpoints are -0.875 and -0.625.
	want := []float64{-0.875, -0.875, -0.625, -0.875, -0.875, -0.625, -0.625, -0.625}
	for i, w := range want {
		if sub[i] != w {
			t.Fatalf("sub-points of cell 0 = %v, want %v", sub[:8], want)
		}
	}
}

func TestGridNonSquare(t *testing.T) {
	// [-2, 2] x [0, 1] in 4 x 4 cells of 1 x 0.25.
	g := Grid{X: Axis{-2, 2}, Y: Axis{0, 1}, N: 4}
	if g.CellWidth() != 1 || g.CellHeight() != 0.25 || g.CellArea() != 0.25 {
		t.Fatalf("cell %v x %v, area %v", g.CellWidth(), g.CellHeight(), g.CellArea())
	}
	pts := g.Points(nil)
	// Cell (ix=1, iy=2) has index 9 and centre (-0.5, 0.625).
	if pts[18] != -0.5 || pts[19] != 0.625 {
		t.Errorf("cell 9 centre = (%v, %v)", pts[18], pts[19])
	}
	for c := 0; c < 16; c++ {
		if got, ok := g.Cell(pts[2*c], pts[2*c+1]); !ok || got != c {
			t.Errorf("Cell(centre of %d) = %d, %v", c, got, ok)
		}
	}
	// Inside in x but outside in y, and the other way round.
	for _, p := range [][2]float64{{1.5, 1.1}, {2.1, 0.5}, {0, -0.01}} {
		if _, ok := g.Cell(p[0], p[1]); ok {
			t.Errorf("%v inside the box", p)
		}
	}
	sub := g.SubPoints(nil, 2)
	// Cell 0 = [-2,-1] x [0,0.25]: midpoints x -1.75, -1.25 and y 0.0625, 0.1875.
	want := []float64{-1.75, 0.0625, -1.25, 0.0625, -1.75, 0.1875, -1.25, 0.1875}
	for i, w := range want {
		if sub[i] != w {
			t.Fatalf("sub-points of cell 0 = %v, want %v", sub[:8], want)
		}
	}
	// The uniform density 1/4 on the box (area 4) gives each cell 1/16.
	dens := make([]float64, 16*4)
	for i := range dens {
		dens[i] = 0.25
	}
	m, err := CellMasses(nil, dens, g, 2)
	if err != nil {
		t.Fatal(err)
	}
	for c, v := range m {
		if math.Abs(v-1.0/16) > 1e-15 {
			t.Errorf("cell %d mass %v, want 1/16", c, v)
		}
	}
}

func TestCellMassesUniform(t *testing.T) {
	// The uniform density 1/4 on [-1,1]^2 gives every one of 16 cells mass 1/16.
	g := Square(-1, 1, 4)
	dens := make([]float64, 16*9)
	for i := range dens {
		dens[i] = 0.25
	}
	m, err := CellMasses(nil, dens, g, 3)
	if err != nil {
		t.Fatal(err)
	}
	for c, v := range m {
		if math.Abs(v-1.0/16) > 1e-15 {
			t.Errorf("cell %d mass %v, want 1/16", c, v)
		}
	}
}

func TestSampleTVHand(t *testing.T) {
	// 2x2 cells over [0,2]^2, true masses 0.2 each (in-box 0.8, outside 0.2).
	// Samples: two in cell 0, one in cell 1, one outside, so h = [0.5 0.25 0 0]
	// and h_out = 0.25. TV = 0.5 * (0.3 + 0.05 + 0.2 + 0.2 + 0.05) = 0.4.
	g := Square(0, 2, 2)
	mass := []float64{0.2, 0.2, 0.2, 0.2}
	xy := []float64{0.5, 0.5, 0.2, 0.9, 1.5, 0.5, 3, 3}
	d, err := SampleTV(xy, mass, g)
	if err != nil || math.Abs(d-0.4) > 1e-15 {
		t.Fatalf("SampleTV = %v, %v; want 0.4", d, err)
	}
	// Masses summing above 1 are rescaled to 1: [0.5 0.5 0.5 0.5] -> 0.25 each.
	// h = [0.5 0.25 0 0], h_out 0.25, t_out 0:
	// TV = 0.5 * (0.25 + 0 + 0.25 + 0.25 + 0.25) = 0.5.
	d, err = SampleTV(xy, []float64{0.5, 0.5, 0.5, 0.5}, g)
	if err != nil || math.Abs(d-0.5) > 1e-15 {
		t.Fatalf("SampleTV with M > 1 = %v, %v; want 0.5", d, err)
	}
	if _, err := SampleTV(nil, mass, g); !errors.Is(err, ErrInput) {
		t.Errorf("no samples: err = %v", err)
	}
}

// gaussMasses returns the midpoint-rule cell masses of N((mx, 0), s^2 I).
func gaussMasses(g Grid, mx, s float64) []float64 {
	pts := g.SubPoints(nil, 4)
	dens := make([]float64, len(pts)/2)
	for i := range dens {
		dx, dy := pts[2*i]-mx, pts[2*i+1]
		dens[i] = math.Exp(-(dx*dx+dy*dy)/(2*s*s)) / (2 * math.Pi * s * s)
	}
	m, err := CellMasses(nil, dens, g, 4)
	if err != nil {
		panic(err)
	}
	return m
}

func TestSampleTVGaussian(t *testing.T) {
	g := Square(-1.6, 1.6, 50)
	const s, n = 0.3, 10000
	mass := gaussMasses(g, 0, s)
	var M float64
	for _, v := range mass {
		M += v
	}
	// In-box mass of N(0, 0.3^2 I) on [-1.6,1.6]^2 is (1 - 2*Phi(-5.33))^2 ~ 1.
	if math.Abs(M-1) > 1e-3 {
		t.Errorf("in-box mass %v, want 1 +- 1e-3", M)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	xy := make([]float64, 2*n)
	for i := range xy {
		xy[i] = s * rng.NormFloat64()
	}
	exact, err := SampleTV(xy, mass, g)
	if err != nil {
		t.Fatal(err)
	}
	shifted, err := SampleTV(xy, gaussMasses(g, 0.3, s), g)
	if err != nil {
		t.Fatal(err)
	}
	// Exact draws only show the sampling noise (about 0.15 for 10^4 draws on
	// ~700 occupied cells); a one-sd shift moves 2*Phi(0.5)-1 = 0.38 of the mass.
	if exact > 0.2 || shifted < 0.3 || shifted < exact+0.2 {
		t.Errorf("TV exact draws %v (want < 0.2), shifted truth %v (want > 0.3)", exact, shifted)
	}
}

func BenchmarkSampleTV(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		g := Square(-1.6, 1.6, 50)
		mass := gaussMasses(g, 0, 0.3)
		rng := rand.New(rand.NewPCG(9, 10))
		xy := make([]float64, 2*n)
		for i := range xy {
			xy[i] = 0.3 * rng.NormFloat64()
		}
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := SampleTV(xy, mass, g); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
