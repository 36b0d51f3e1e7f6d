package series

// Decimate reduces the points (t_i, y_i) to at most max points for plotting
// while keeping the envelope: when len(y) > max the points are split into
// max/2 consecutive buckets of nearly equal size and each bucket contributes
// its minimum and its maximum, in their original order. Shorter series are
// returned unchanged (as copies). t and y must have the same length and max
// must be at least 2.
func Decimate(t, y []float64, max int) (dt, dy []float64) {
	if len(t) != len(y) {
		panic("series: Decimate of series of different lengths")
	}
	if max < 2 {
		panic("series: Decimate to fewer than 2 points")
	}
	n := len(y)
	if n <= max {
		return append([]float64(nil), t...), append([]float64(nil), y...)
	}
	buckets := max / 2
	dt = make([]float64, 0, 2*buckets)
	dy = make([]float64, 0, 2*buckets)
	for b := 0; b < buckets; b++ {
		lo, hi := b*n/buckets, (b+1)*n/buckets
		imin, imax := lo, lo
		for i := lo + 1; i < hi; i++ {
			if y[i] < y[imin] {
				imin = i
			}
			if y[i] > y[imax] {
				imax = i
			}
		}
		first, second := imin, imax
		if imax < imin {
			first, second = imax, imin
		}
		dt = append(dt, t[first])
		dy = append(dy, y[first])
		if second != first {
			dt = append(dt, t[second])
			dy = append(dy, y[second])
		}
	}
	return dt, dy
}
