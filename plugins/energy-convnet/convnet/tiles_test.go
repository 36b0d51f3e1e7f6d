package convnet

import "testing"

// TestTileOrder checks that a task's tile order holds every position once
// and that each tile's box holds every tap its rows read inside the input,
// and that a full task skips taps when padding skips are on.
func TestTileOrder(t *testing.T) {
	for _, g := range []convGeom{
		newConvGeom(100, 32, 32, 32, 64, 4, 2, 1),
		newConvGeom(100, 64, 16, 16, 128, 4, 2, 1),
		newConvGeom(100, 128, 8, 8, 256, 4, 2, 1),
		newConvGeom(7, 24, 5, 6, 96, 3, 1, 2),
		newConvGeom(3, 1, 28, 28, 8, 3, 1, 1),
		newConvGeom(4, 64, 3, 3, 1, 3, 1, 0),
	} {
		for _, m := range []int{1, 3, g.chunk()} {
			o := newTileOrder(g, m)
			q := g.q()
			seen := make([]bool, m*q)
			for _, pos := range o.perm {
				if seen[pos] {
					t.Fatalf("%+v m %d: position %d twice", g, m, pos)
				}
				seen[pos] = true
			}
			if len(o.perm) != m*q || len(o.boxes) != (m*q+indMR-1)/indMR {
				t.Fatalf("%+v m %d: %d positions, %d tiles", g, m, len(o.perm), len(o.boxes))
			}
			taps, all := 0, 0
			for l, pos := range o.perm {
				b := o.boxes[l/indMR]
				r := pos % q
				for ky := 0; ky < g.k; ky++ {
					for kx := 0; kx < g.k; kx++ {
						iy, ix := r/g.ow*g.s-g.p+ky, r%g.ow*g.s-g.p+kx
						inside := iy >= 0 && iy < g.h && ix >= 0 && ix < g.w
						inBox := ky >= b.y0 && ky < b.y1 && kx >= b.x0 && kx < b.x1
						if inside && !inBox {
							t.Fatalf("%+v m %d: tap (%d, %d) of position %d outside its tile's box %+v", g, m, ky, kx, pos, b)
						}
						if inBox {
							taps++
						}
						all++
					}
				}
			}
			if g.skipsPadding() && m == g.chunk() && taps == all {
				t.Errorf("%+v m %d: no tap skipped", g, m)
			}
			if m == g.chunk() {
				t.Logf("%+v m %d: %d of %d taps run (%.1f%%)", g, m, taps, all, 100*float64(taps)/float64(all))
			}
			if !g.skipsPadding() && taps != all {
				t.Errorf("%+v m %d: taps skipped without padding skips", g, m)
			}
		}
	}
}
