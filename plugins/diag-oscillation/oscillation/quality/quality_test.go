package quality

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

func set1D(t *testing.T, v ...float64) *Set {
	t.Helper()
	s, err := FromRows(v, len(v))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*max(1, math.Abs(b)) }

// TestMedianDist2: the median of the pairwise squared distances, odd and
// even numbers of pairs.
func TestMedianDist2(t *testing.T) {
	for _, c := range []struct {
		pts  []float64
		want float64
	}{
		{[]float64{0, 1, 3}, 4},       // 1 4 9
		{[]float64{0, 1, 3, 7}, 12.5}, // 1 4 9 16 36 49: (9+16)/2
	} {
		got, err := MedianDist2(set1D(t, c.pts...))
		if err != nil || !near(got, c.want) {
			t.Errorf("median of %v: %v, %v, want %v", c.pts, got, err, c.want)
		}
	}
	if _, err := MedianDist2(set1D(t, 5)); !errors.Is(err, ErrSize) {
		t.Errorf("one point: %v", err)
	}
}

// TestMMDByHand: A = {0, 2} fixes s2 = 4; X = {c, 2+c}. The unbiased
// estimate, written out term by term, is
// 2 e^{-1/2} - (2 e^{-c^2/8} + e^{-(2-c)^2/8} + e^{-(2+c)^2/8}) / 2:
// negative for identical sets (c = 0: e^{-1/2} - 1), growing with the shift.
func TestMMDByHand(t *testing.T) {
	ref, err := NewReference(set1D(t, 0, 2))
	if err != nil || ref.S2 != 4 {
		t.Fatalf("reference: %v, s2 %v", err, ref)
	}
	prev := math.Inf(-1)
	for _, c := range []float64{0, 0.5, 1, 3, 10} {
		got, err := ref.MMD2(set1D(t, c, 2+c))
		if err != nil {
			t.Fatal(err)
		}
		k := func(d float64) float64 { return math.Exp(-d * d / 8) }
		want := 2*k(2) - (2*k(c)+k(2-c)+k(2+c))/2
		if !near(got, want) {
			t.Errorf("shift %v: %v, want %v", c, got, want)
		}
		if !(got > prev) {
			t.Errorf("shift %v: %v not above %v of the smaller shift", c, got, prev)
		}
		prev = got
	}
	if got, _ := ref.MMD2(set1D(t, 0, 2)); !near(got, math.Exp(-0.5)-1) {
		t.Errorf("identical sets: %v, want e^-1/2 - 1", got)
	}
}

// TestMMDIdenticalIsNegative: for X = A the unbiased estimate is exactly
// -2(1 - mean_{i!=j} k(a_i, a_j))/n (the diagonal k = 1 terms are in the
// cross term only): below 0, the sign of an unbiased estimator's noise.
func TestMMDIdenticalIsNegative(t *testing.T) {
	a := gaussSet(t, 1, 50, 8, 0)
	ref, err := NewReference(a)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ref.MMD2(a)
	want := -2 * (1 - ref.selfK) / 50
	if err != nil || !near(got, want) || !(got < 0) {
		t.Errorf("MMD2(A, A) = %v, %v; want %v < 0", got, err, want)
	}
}

// gaussSet draws n points of N(shift, I_d) from a seeded stream.
func gaussSet(t *testing.T, seed uint64, n, d int, shift float64) *Set {
	t.Helper()
	r := sdk.NewStream(seed, "test")
	v := make([]float64, n*d)
	for i := range v {
		v[i] = shift + r.NormFloat64()
	}
	s, err := FromRows(v, n)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestMMDShiftedSets: same-distribution sets stay near 0, shifted ones
// rise far above it, monotonically in the shift.
func TestMMDShiftedSets(t *testing.T) {
	ref, err := NewReference(gaussSet(t, 1, 200, 16, 0))
	if err != nil {
		t.Fatal(err)
	}
	same, _ := ref.MMD2(gaussSet(t, 2, 200, 16, 0))
	if math.Abs(same) > 0.01 {
		t.Errorf("same distribution: %v, want |.| <= 0.01", same)
	}
	prev := same
	for _, s := range []float64{0.25, 0.5, 1, 2} {
		got, _ := ref.MMD2(gaussSet(t, 2, 200, 16, s))
		if !(got > prev+0.01) {
			t.Errorf("shift %v: %v, not above %v", s, got, prev)
		}
		prev = got
	}
	if _, err := ref.MMD2(gaussSet(t, 2, 10, 15, 0)); !errors.Is(err, ErrSize) {
		t.Errorf("wrong dimension: %v", err)
	}
}

// TestSaturation counts by hand, NaN included.
func TestSaturation(t *testing.T) {
	x := sdk.FromFloat64([]float64{-1, -0.995, 0.5, 0.99, 1.2, math.NaN(), 0, -2, 0.989, 1}, 2, 5)
	got := Saturation(x)
	if got.Saturated != 0.7 || got.Beyond != 0.3 {
		t.Errorf("saturation %+v, want 7/10 saturated, 3/10 beyond", got)
	}
	if got := SaturationOf([]float64{0, 0.5}); got != (Sat{}) {
		t.Errorf("no saturation: %+v", got)
	}
}

// gaussData is a Nexter serving N(0, I) "held-out" rows that depend only on
// the stream and N, as the sdk documents; it records the requests.
type gaussData struct {
	d    int
	reqs []sdk.NextRequest
}

func (g *gaussData) Next(ctx context.Context, req sdk.NextRequest) (*sdk.Tensor, error) {
	g.reqs = append(g.reqs, req)
	r := sdk.NewStream(7, req.Stream)
	x := sdk.NewTensor(sdk.Float32, req.N, 1, g.d)
	for i := range x.F32 {
		x.F32[i] = float32(0.3 * r.NormFloat64())
	}
	return x, nil
}

// TestBaseline: one held-out request (Split test, no noise) for the
// reference and the floor sets; the floor is small against a shifted set;
// the same call gives the same numbers.
func TestBaseline(t *testing.T) {
	ctx := context.Background()
	g := &gaussData{d: 12}
	b, err := NewBaseline(ctx, g, "q", 60, 30, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.reqs) != 1 || g.reqs[0] != (sdk.NextRequest{N: 150, Stream: "q", Split: sdk.SplitTest, NoiseSet: true}) {
		t.Fatalf("requests %+v", g.reqs)
	}
	if b.Ref.A.N != 60 || b.M != 30 || b.Reps != 3 || !(b.FloorSD > 0) || b.Data.Saturated >= 0.1 {
		t.Errorf("baseline %+v", b)
	}
	b2, _ := NewBaseline(ctx, g, "q", 60, 30, 3)
	if b2.Floor != b.Floor || b2.FloorSD != b.FloorSD || b2.Ref.S2 != b.Ref.S2 {
		t.Errorf("not deterministic: %+v then %+v", b, b2)
	}
	x := sdk.NewTensor(sdk.Float32, 30, 1, 12)
	r := sdk.NewStream(3, "x")
	for i := range x.F32 {
		x.F32[i] = float32(0.5 + 0.3*r.NormFloat64())
	}
	res, err := b.Evaluate(x)
	if err != nil || !res.HasMMD || !(res.MMD2 > b.Floor+10*b.FloorSD) {
		t.Errorf("shifted samples: %+v, %v; floor %v +- %v", res, err, b.Floor, b.FloorSD)
	}
	x.F32[0] = float32(math.Inf(1))
	res, err = b.Evaluate(x)
	if err == nil || res.HasMMD || res.Sat != Saturation(x) || !(res.Sat.Beyond >= 1.0/360) {
		t.Errorf("non-finite sample: %+v, %v", res, err)
	}
}
