package tv

import (
	"errors"
	"fmt"
	"math"
)

// ErrInput reports weights or samples that cannot form a distribution.
var ErrInput = errors.New("tv: invalid input")

// Softmax writes p_i = exp(l_i - max l) / sum_j exp(l_j - max l) into dst and
// returns it: the distribution whose log-weights are l. With l = -U it is the
// grid-normalised exp(-(U - min U)). If dst is nil or too short a new slice is
// allocated. Non-finite log-weights other than -Inf are an error.
func Softmax(dst, logw []float64) ([]float64, error) {
	if len(logw) == 0 {
		return nil, fmt.Errorf("%w: no log-weights", ErrInput)
	}
	dst = resize(dst, len(logw))
	mx := math.Inf(-1)
	for i, v := range logw {
		if math.IsNaN(v) || math.IsInf(v, 1) {
			return nil, fmt.Errorf("%w: log-weight %d is %v", ErrInput, i, v)
		}
		mx = math.Max(mx, v)
	}
	if math.IsInf(mx, -1) {
		return nil, fmt.Errorf("%w: every log-weight is -Inf", ErrInput)
	}
	var s float64
	for i, v := range logw {
		dst[i] = math.Exp(v - mx)
		s += dst[i]
	}
	for i := range dst {
		dst[i] /= s
	}
	return dst, nil
}

// TV returns 0.5 * sum_i |p_i/P - q_i/Q| with P and Q the sums of the
// non-negative weights p and q: the total variation distance between the two
// distributions they define on the same cells.
func TV(p, q []float64) (float64, error) {
	if len(p) != len(q) {
		return 0, fmt.Errorf("%w: %d weights against %d", ErrInput, len(p), len(q))
	}
	P, err := total(p)
	if err != nil {
		return 0, err
	}
	Q, err := total(q)
	if err != nil {
		return 0, err
	}
	var s float64
	for i := range p {
		s += math.Abs(p[i]/P - q[i]/Q)
	}
	return 0.5 * s, nil
}

func total(w []float64) (float64, error) {
	var s float64
	for i, v := range w {
		if !(v >= 0) || math.IsInf(v, 1) {
			return 0, fmt.Errorf("%w: weight %d is %v", ErrInput, i, v)
		}
		s += v
	}
	if s == 0 {
		return 0, fmt.Errorf("%w: weights sum to 0", ErrInput)
	}
	return s, nil
}
