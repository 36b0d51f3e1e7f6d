package quality

import (
	"math"

	"github.com/ebmflow/ebmflow/sdk"
)

// SatLevel is the magnitude from which a pixel value counts as saturated.
const SatLevel = 0.99

// Sat holds the saturation fractions of a set of pixel values.
type Sat struct {
	// Saturated is the fraction of values v with |v| >= SatLevel (or NaN).
	Saturated float64 `json:"saturated"`
	// Beyond is the fraction of values with |v| > 1 (or NaN).
	Beyond float64 `json:"beyond"`
}

// Saturation counts the saturated and out-of-range values of x.
func Saturation(x *sdk.Tensor) Sat { return count(x.Len(), x.At) }

// SaturationOf counts the saturated and out-of-range values of v.
func SaturationOf(v []float64) Sat { return count(len(v), func(i int) float64 { return v[i] }) }

func count(n int, at func(int) float64) Sat {
	if n == 0 {
		return Sat{}
	}
	var sat, out int
	for i := range n {
		a := math.Abs(at(i))
		if !(a < SatLevel) {
			sat++
		}
		if !(a <= 1) {
			out++
		}
	}
	return Sat{Saturated: float64(sat) / float64(n), Beyond: float64(out) / float64(n)}
}
