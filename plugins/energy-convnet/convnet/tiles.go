package convnet

// The order in which a task's output positions fill the indirect kernel's
// tiles, chosen so that the taps falling on the zero padding can be skipped.
//
// In a 4x4, stride-2, padding-1 convolution an output position on the
// image's border reads a row or a column of taps from the padding: a 4x4
// output loses 23% of its multiply-adds to zeros, an 8x8 one 12%, a 16x16
// one 6%. A tile of 8 positions can leave out the taps that every one of
// its rows reads from the padding. So positions are grouped by the taps
// they read inside the image (top, middle or bottom rows by left, middle or
// right columns), images and positions in order within a group, and each
// tile runs only the bounding box of the taps its rows need. A skipped tap
// would only have added products with zeros; the order of every sum over
// the taps a row does read is unchanged.

// tapBox is the rectangle of taps [y0, y1) x [x0, x1) that a tile reads.
type tapBox struct{ y0, y1, x0, x1 int }

// tileOrder is the tile order of a task of m images of one geometry.
type tileOrder struct {
	g     convGeom // n is 0
	m     int
	perm  []int    // the task-local position of each tile row
	boxes []tapBox // the taps of each tile of indMR rows
}

// axisTaps returns the taps [lo, hi) of output coordinate o, along an axis
// of the given input size, that fall inside the input.
func axisTaps(o, s, p, k, size int) (lo, hi int) {
	start := o*s - p
	return max(0, -start), min(k, size-start)
}

// axisClasses numbers the output coordinates of an axis by the taps they
// read inside the input, in order of first appearance.
func axisClasses(n, s, p, k, size int) (cls []int, nc int) {
	cls = make([]int, n)
	var seen [][2]int
	for o := range cls {
		lo, hi := axisTaps(o, s, p, k, size)
		c := len(seen)
		for i, r := range seen {
			if r == [2]int{lo, hi} {
				c = i
			}
		}
		if c == len(seen) {
			seen = append(seen, [2]int{lo, hi})
		}
		cls[o] = c
	}
	return cls, len(seen)
}

// skipsPadding says whether the forward and input-gradient passes of g
// group positions to skip padded taps: only with padding, and with enough
// channels per tap that the shorter kernel calls stay long.
func (g convGeom) skipsPadding() bool { return g.p > 0 && g.c >= 16 }

// newTileOrder computes the tile order of a task of m images.
func newTileOrder(g convGeom, m int) *tileOrder {
	g.n = 0
	q := g.q()
	t := &tileOrder{g: g, m: m, perm: make([]int, 0, m*q)}
	if !g.skipsPadding() {
		for l := 0; l < m*q; l++ {
			t.perm = append(t.perm, l)
		}
	} else {
		yc, ny := axisClasses(g.oh, g.s, g.p, g.k, g.h)
		xc, nx := axisClasses(g.ow, g.s, g.p, g.k, g.w)
		for cy := 0; cy < ny; cy++ {
			for cx := 0; cx < nx; cx++ {
				for n := 0; n < m; n++ {
					for oy := 0; oy < g.oh; oy++ {
						for ox := 0; ox < g.ow; ox++ {
							if yc[oy] == cy && xc[ox] == cx {
								t.perm = append(t.perm, n*q+oy*g.ow+ox)
							}
						}
					}
				}
			}
		}
	}
	for p0 := 0; p0 < len(t.perm); p0 += indMR {
		b := tapBox{y0: g.k, x0: g.k}
		for _, pos := range t.perm[p0:min(len(t.perm), p0+indMR)] {
			if !g.skipsPadding() {
				b = tapBox{0, g.k, 0, g.k}
				break
			}
			r := pos % q
			ylo, yhi := axisTaps(r/g.ow, g.s, g.p, g.k, g.h)
			xlo, xhi := axisTaps(r%g.ow, g.s, g.p, g.k, g.w)
			b = tapBox{min(b.y0, ylo), max(b.y1, yhi), min(b.x0, xlo), max(b.x1, xhi)}
		}
		t.boxes = append(t.boxes, b)
	}
	return t
}

// tileOrder returns the tile order of a task of m images of geometry g,
// made once and kept in the workspace. Call it before the tasks start.
func (cw *convWork[T]) tileOrder(g convGeom, m int) *tileOrder {
	g.n = 0
	for _, t := range cw.orders {
		if t.g == g && t.m == m {
			return t
		}
	}
	if len(cw.orders) >= 64 { // batch sizes come and go: start afresh
		cw.orders = cw.orders[:0]
	}
	t := newTileOrder(g, m)
	cw.orders = append(cw.orders, t)
	return t
}

// taskOrders returns the tile orders of g's tasks: of a full task of
// g.chunk() images and of the last task, which may have fewer.
func (cw *convWork[T]) taskOrders(g convGeom) (full, last *tileOrder) {
	c := g.chunk()
	full = cw.tileOrder(g, min(c, g.n))
	last = cw.tileOrder(g, g.n-(g.tasks()-1)*c)
	return full, last
}
