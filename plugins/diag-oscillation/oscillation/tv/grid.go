package tv

// Axis is one side [Lo, Hi] of a grid's box.
type Axis struct{ Lo, Hi float64 }

// Grid is an N x N grid of equal rectangular cells covering the box X x Y
// (square cells when the two axes have the same length). Cell (ix, iy) has
// index iy*N + ix, x growing with ix and y with iy.
type Grid struct {
	X, Y Axis
	N    int
}

// Square returns the N x N grid over [lo, hi]^2.
func Square(lo, hi float64, n int) Grid { return Grid{X: Axis{lo, hi}, Y: Axis{lo, hi}, N: n} }

// CellWidth returns the x side of one cell, (X.Hi - X.Lo)/N.
func (g Grid) CellWidth() float64 { return (g.X.Hi - g.X.Lo) / float64(g.N) }

// CellHeight returns the y side of one cell, (Y.Hi - Y.Lo)/N.
func (g Grid) CellHeight() float64 { return (g.Y.Hi - g.Y.Lo) / float64(g.N) }

// CellArea returns the area of one cell.
func (g Grid) CellArea() float64 { return g.CellWidth() * g.CellHeight() }

// CentreX returns the x coordinate X.Lo + (i + 0.5)*CellWidth of column i.
func (g Grid) CentreX(i int) float64 { return g.X.Lo + (float64(i)+0.5)*g.CellWidth() }

// CentreY returns the y coordinate Y.Lo + (i + 0.5)*CellHeight of row i.
func (g Grid) CentreY(i int) float64 { return g.Y.Lo + (float64(i)+0.5)*g.CellHeight() }

// Points writes the N*N cell centres as (x, y) pairs into dst, in cell-index
// order, and returns it. If dst is nil or too short a new slice is allocated.
func (g Grid) Points(dst []float64) []float64 {
	dst = resize(dst, 2*g.N*g.N)
	for iy := 0; iy < g.N; iy++ {
		y := g.CentreY(iy)
		for ix := 0; ix < g.N; ix++ {
			c := iy*g.N + ix
			dst[2*c], dst[2*c+1] = g.CentreX(ix), y
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
	w, h := g.CellWidth(), g.CellHeight()
	sw, sh := w/float64(sub), h/float64(sub)
	k := 0
	for iy := 0; iy < g.N; iy++ {
		y0 := g.Y.Lo + float64(iy)*h
		for ix := 0; ix < g.N; ix++ {
			x0 := g.X.Lo + float64(ix)*w
			for sy := 0; sy < sub; sy++ {
				for sx := 0; sx < sub; sx++ {
					dst[k] = x0 + (float64(sx)+0.5)*sw
					dst[k+1] = y0 + (float64(sy)+0.5)*sh
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
	ix, ok := g.X.index(x, g.N)
	if !ok {
		return 0, false
	}
	iy, ok := g.Y.index(y, g.N)
	if !ok {
		return 0, false
	}
	return iy*g.N + ix, true
}

func (a Axis) index(v float64, n int) (int, bool) {
	if !(v >= a.Lo && v <= a.Hi) {
		return 0, false
	}
	i := int((v - a.Lo) / ((a.Hi - a.Lo) / float64(n)))
	if i >= n {
		i = n - 1
	}
	return i, true
}

func resize(dst []float64, n int) []float64 {
	if cap(dst) < n {
		return make([]float64, n)
	}
	return dst[:n]
}
