package quality

import (
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// benchSet is n rows of 32x32 values in [-1, 1] (mostly -1, like digits).
func benchSet(seed uint64, n int) *Set {
	r := sdk.NewStream(seed, "bench")
	v := make([]float64, n*1024)
	for i := range v {
		v[i] = -1
		if r.Float64() < 0.2 {
			v[i] = 2*r.Float64() - 1
		}
	}
	s, _ := FromRows(v, n)
	return s
}

// BenchmarkMMD2 is one evaluation's arithmetic at the default size: 1,000
// samples of 32x32 pixels against a reference of 1,000.
func BenchmarkMMD2(b *testing.B) {
	ref, err := NewReference(benchSet(1, 1000))
	if err != nil {
		b.Fatal(err)
	}
	x := benchSet(2, 1000)
	b.ResetTimer()
	for b.Loop() {
		if _, err := ref.MMD2(x); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReference is the bandwidth and the reference's own kernel mean
// (once per run, with the floor's 4 evaluations).
func BenchmarkReference(b *testing.B) {
	a := benchSet(1, 1000)
	for b.Loop() {
		if _, err := NewReference(a); err != nil {
			b.Fatal(err)
		}
	}
}
