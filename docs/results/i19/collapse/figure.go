//go:build ignore

package main

import (
	"fmt"
	"image/color"
	"math"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// symlog maps y to sign(y) log10(1 + |y|): linear near 0, logarithmic far
// from it, so the oscillation around 0 and the fall to -10^4 share an axis.
func symlog(y float64) float64 { return math.Copysign(math.Log10(1+math.Abs(y)), y) }

// symlogScale is a plot.Normalizer for symlog.
type symlogScale struct{}

func (symlogScale) Normalize(lo, hi, x float64) float64 {
	return (symlog(x) - symlog(lo)) / (symlog(hi) - symlog(lo))
}

// symlogTicks marks 0, +-1, +-10, ... within the axis range.
type symlogTicks struct{}

func (symlogTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := []plot.Tick{{Value: 0, Label: "0"}}
	for e := 0; e <= 8; e++ {
		v := math.Pow(10, float64(e))
		if v <= hi {
			ts = append(ts, plot.Tick{Value: v, Label: label(v)})
		}
		if -v >= lo {
			ts = append(ts, plot.Tick{Value: -v, Label: label(-v)})
		}
	}
	return ts
}

func label(v float64) string { return fmt.Sprintf("%.0f", v) }

// Range of the d_st panels; running means beyond it end the curve.
const dLo, dHi = -1e5, 1e2

// colour returns the line colour of a data-noise factor and a seed.
func colour(f float64, seed int) color.Color {
	shade := uint8(40 * (seed - 123))
	switch f {
	case 0:
		return color.RGBA{R: 220 - shade, G: shade / 2, B: shade / 2, A: 255}
	case 2:
		return color.RGBA{R: shade / 2, G: 70 + shade, B: 220 - shade/2, A: 255}
	}
	return color.RGBA{R: 30, G: 150, B: 40, A: 255}
}

// newPanel returns a panel over iterations 0 to 3,000.
func newPanel(title, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "iteration t"
	p.Y.Label.Text = y
	p.X.Min, p.X.Max = 0, 3000
	p.Add(plotter.NewGrid())
	return p
}

// figure writes a 3x2 PNG: columns segment and points; rows the
// 10-iteration running mean of d_st (symlog), r_t (log scale) and, for seed
// 123, the mean energy F on the data and on the samples (linear, up to
// the first value beyond 0.6).
func figure(path string, rs []*run) error {
	var rows [3][]*plot.Plot
	for _, ds := range []string{"segment", "points"} {
		d := newPanel(ds+": d_st (mean of 10 iterations); x: F overflowed", "d_st = U(data) - U(samples)")
		d.Y.Scale, d.Y.Tick.Marker = symlogScale{}, symlogTicks{}
		d.Y.Min, d.Y.Max = dLo, dHi
		r := newPanel(ds+": r_t (Langevin gradient magnitude)", "r_t")
		r.Y.Scale, r.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
		r.Y.Min, r.Y.Max = 5e-3, 1e2
		e := newPanel(ds+", seed 123: mean F on data (solid), samples (dashed)", "F")
		e.Y.Min, e.Y.Max = -0.15, 0.6
		for _, run := range rs {
			if run.Dataset != ds {
				continue
			}
			var dp, rp plotter.XYs
			for i, m := range run.recs {
				v := run.runMean[i]
				if math.IsNaN(v) || v < dLo || v > dHi {
					break
				}
				dp = append(dp, plotter.XY{X: float64(m.T), Y: v})
				if m.R > r.Y.Min && m.R < r.Y.Max {
					rp = append(rp, plotter.XY{X: float64(m.T), Y: m.R})
				}
			}
			lbl := fmt.Sprintf("eps_data = %g eps, seed %d", run.Factor, run.Seed)
			if run.Seed == 123 {
				if err := energies(e, run, lbl); err != nil {
					return err
				}
			}
			for _, pl := range []struct {
				p   *plot.Plot
				pts plotter.XYs
			}{{d, dp}, {r, rp}} {
				if len(pl.pts) == 0 {
					continue
				}
				l, err := plotter.NewLine(pl.pts)
				if err != nil {
					return err
				}
				l.Color, l.Width = colour(run.Factor, run.Seed), vg.Points(1)
				pl.p.Add(l)
				if run.State == "non_finite" {
					last := pl.pts[len(pl.pts)-1:]
					sc, _ := plotter.NewScatter(last)
					sc.GlyphStyle = draw.GlyphStyle{Shape: draw.CrossGlyph{}, Radius: vg.Points(5), Color: l.Color}
					pl.p.Add(sc)
				}
				if pl.p == d {
					d.Legend.Add(lbl, l)
				}
			}
		}
		zero, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 3000, Y: 0}})
		zero.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
		d.Add(zero)
		d.Legend.Top, d.Legend.Left = false, true
		d.Legend.TextStyle.Font.Size = vg.Points(8)
		rows[0] = append(rows[0], d)
		rows[1] = append(rows[1], r)
		e.Legend.Top, e.Legend.Left = true, true
		e.Legend.TextStyle.Font.Size = vg.Points(8)
		rows[2] = append(rows[2], e)
	}
	plots := [][]*plot.Plot{rows[0], rows[1], rows[2]}
	img := vgimg.NewWith(vgimg.UseWH(13*vg.Inch, 13*vg.Inch), vgimg.UseDPI(96))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 3, Cols: 2, PadX: vg.Millimeter * 6, PadY: vg.Millimeter * 6,
		PadTop: vg.Millimeter * 3, PadBottom: vg.Millimeter * 3, PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 5}
	canvases := plot.Align(plots, tiles, dc)
	for i := range plots {
		for j := range plots[i] {
			plots[i][j].Draw(canvases[i][j])
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// energies adds run's mean F on the data (solid) and on the samples
// (dashed) to p, up to the first value outside p's range.
func energies(p *plot.Plot, run *run, lbl string) error {
	var pos, neg plotter.XYs
	for _, m := range run.recs {
		if !(m.FPos > p.Y.Min && m.FPos < p.Y.Max && m.FNeg > p.Y.Min && m.FNeg < p.Y.Max) {
			break
		}
		pos = append(pos, plotter.XY{X: float64(m.T), Y: m.FPos})
		neg = append(neg, plotter.XY{X: float64(m.T), Y: m.FNeg})
	}
	if len(pos) == 0 {
		return nil
	}
	lp, err := plotter.NewLine(pos)
	if err != nil {
		return err
	}
	ln, err := plotter.NewLine(neg)
	if err != nil {
		return err
	}
	lp.Color, ln.Color = colour(run.Factor, run.Seed), colour(run.Factor, run.Seed)
	lp.Width, ln.Width = vg.Points(1), vg.Points(1)
	ln.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
	p.Add(lp, ln)
	p.Legend.Add(lbl+", data", lp)
	p.Legend.Add(lbl+", samples", ln)
	return nil
}
