package oscillation

import (
	"testing"
)

// TestClassRates checks the rules on many seeds: i.i.d. noise should be
// called weak and never strong (class_z = 3 makes a false strong call on a
// window of 2000 about a 0.4% event per refresh), an AR(1) with phi = -0.6
// always strong.
func TestClassRates(t *testing.T) {
	if testing.Short() {
		t.Skip("100 windows")
	}
	o := defaultOptions()
	var sc scratch
	weak, strongIID, strongAR := 0, 0, 0
	const seeds = 50
	for seed := uint64(100); seed < 100+seeds; seed++ {
		h := history{T: make([]float64, 2000), D: iid(2000, seed), R: iid(2000, seed+1000)}
		switch computeStats(h, o, &sc).Class {
		case Weak:
			weak++
		case Strong:
			strongIID++
		}
		h.D = ar1(2000, -0.6, seed)
		if computeStats(h, o, &sc).Class == Strong {
			strongAR++
		}
	}
	t.Logf("i.i.d.: %d/%d weak, %d strong; AR(1) -0.6: %d/%d strong", weak, seeds, strongIID, strongAR, seeds)
	if weak < seeds*9/10 || strongIID > 1 || strongAR != seeds {
		t.Errorf("i.i.d. weak %d/%d (want >= 90%%), strong %d (want <= 1); AR(1) strong %d/%d",
			weak, seeds, strongIID, strongAR, seeds)
	}
}
