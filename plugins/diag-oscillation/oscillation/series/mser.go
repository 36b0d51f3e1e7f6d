package series

// MSERBatch is the batch size of MSER-5: the rule runs on means of
// consecutive batches of this many values.
const MSERBatch = 5

// MSER returns the truncation point of the Marginal Standard Error Rule
// (White, 1997) in its MSER-5 form: x is cut into batches of MSERBatch
// values with means z_1..z_m, and the returned index is MSERBatch*d for the
// d in 0..m/2 that minimises
//
//	sum_{j>d} (z_j - mean(z_{d+1..m}))^2 / (m-d)^2,
//
// the squared standard error of the mean of what is kept. A transient at
// the start of a series inflates that error, so the rule cuts it off; for a
// stationary series it cuts little. Fewer than 2*MSERBatch values give 0.
func MSER(x []float64) int {
	m := len(x) / MSERBatch
	if m < 2 {
		return 0
	}
	z := make([]float64, m)
	for j := range z {
		var s float64
		for _, v := range x[j*MSERBatch : (j+1)*MSERBatch] {
			s += v
		}
		z[j] = s / MSERBatch
	}
	// Suffix sums of z and z^2, accumulated from the end.
	best, bestD := 0.0, 0
	var s1, s2 float64
	for d := m - 1; d >= 0; d-- {
		s1 += z[d]
		s2 += z[d] * z[d]
		if d > m/2 {
			continue
		}
		k := float64(m - d)
		ss := s2 - s1*s1/k
		if ss < 0 {
			ss = 0
		}
		v := ss / (k * k)
		if d == m/2 || v <= best {
			best, bestD = v, d
		}
	}
	return bestD * MSERBatch
}
