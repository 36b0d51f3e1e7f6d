package series_test

import (
	"fmt"

	"github.com/ebmflow/ebmflow/plugins/diag-oscillation/oscillation/series"
)

// A series whose sign flips every step has a strongly negative lag-1
// autocorrelation: the signature of strong oscillation.
func ExampleACF() {
	x := []float64{1, -1, 1, -1, 1, -1, 1, -1}
	fmt.Printf("%.3f\n", series.ACF(nil, x, 2))
	// Output: [1.000 -0.875 0.750]
}

// ccf(k) = corr(x_t, y_{t+k}): y repeating x one step later peaks at k = +1.
func ExampleCCF() {
	x := []float64{0, 1, 0, 0, 2, 0, 1}
	y := []float64{0, 0, 1, 0, 0, 2, 0}
	c := series.CCF(nil, x, y, 1)
	fmt.Printf("lag -1: %.3f, lag 0: %.3f, lag +1: %.3f\n", c[0], c[1], c[2])
	// Output: lag -1: 0.011, lag 0: -0.462, lag +1: 0.934
}
