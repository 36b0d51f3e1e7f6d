package tv

// Grid is an N x N grid of square cells covering the box [Lo, Hi]^2. Cell
// (ix, iy) has index iy*N + ix, x growing with ix and y with iy.
type Grid struct {
	Lo, Hi float64
	N      int
}

// Width returns the side of one cell, (Hi - Lo)/N.
func (g Grid) Width() float64 { return (g.Hi - g.Lo) / float64(g.N) }

// Centre returns the centre coordinate Lo + (i + 0.5)*Width of column or row i.
func (g Grid) Centre(i int) float64 { return g.Lo + (float64(i)+0.5)*g.Width() }

// Points writes the N*N cell centres as (x, y) pairs into dst, in cell-index
// order, and returns it. If dst is nil or too short a new slice is allocated.
func (g Grid) Points(dst []float64) []float64 {
	dst = resize(dst, 2*g.N*g.N)
	for iy := 0; iy < g.N; iy++ {
		y := g.Centre(iy)
		for ix := 0; ix < g.N; ix++ {
			c := iy*g.N + ix
			dst[2*c], dst[2*c+1] = g.Centre(ix), y
		}
	}
	return dst
}

// SubPoints writes, for each cell in index order, the sub*sub midpoints of
// the cell's sub x sub sub-cells as (x, y) pairs (cell c's points start at
// pair c*sub*sub, row by row), and returns dst. If dst is nil or too short a
// new slice is allocated.
func (g Grid) SubPoints(dst []float64, sub int) []float64 {
	dst = resize(dst, 2*g.N*g.N*sub*sub)
	w := g.Width()
	h := w / float64(sub)
	k := 0
	for iy := 0; iy < g.N; iy++ {
		y0 := g.Lo + float64(iy)*w
		for ix := 0; ix < g.N; ix++ {
			x0 := g.Lo + float64(ix)*w
			for sy := 0; sy < sub; sy++ {
				for sx := 0; sx < sub; sx++ {
					dst[k] = x0 + (float64(sx)+0.5)*h
					dst[k+1] = y0 + (float64(sy)+0.5)*h
					k += 2
				}
			}
		}
	}
	return dst
}

// Cell returns the index of the cell holding (x, y) and true, or false when
// the point lies outside the closed box (NaN lies outside). Points on the
// upper edge belong to the last row or column.
func (g Grid) Cell(x, y float64) (int, bool) {
	ix, ok := g.index(x)
	if !ok {
		return 0, false
	}
	iy, ok := g.index(y)
	if !ok {
		return 0, false
	}
	return iy*g.N + ix, true
}

func (g Grid) index(v float64) (int, bool) {
	if !(v >= g.Lo && v <= g.Hi) {
		return 0, false
	}
	i := int((v - g.Lo) / g.Width())
	if i >= g.N {
		i = g.N - 1
	}
	return i, true
}

func resize(dst []float64, n int) []float64 {
	if cap(dst) < n {
		return make([]float64, n)
	}
	return dst[:n]
}
