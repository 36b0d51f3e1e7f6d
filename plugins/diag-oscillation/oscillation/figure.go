package oscillation

import (
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/ebmflow/ebmflow/plugins/diag-oscillation/oscillation/series"
)

// Figure geometry: diagnostics.png is FigureWidth x FigureHeight pixels.
const (
	FigureWidth  = 1200
	FigureHeight = 900
	figureDPI    = 96
	// PlotPoints is the most points of a time series drawn before min-max
	// decimation.
	PlotPoints = 5000
	// strokePiece is the number of segments stroked as one path.
	strokePiece = 100
)

var (
	colDST  = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	colR    = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	colRef  = color.RGBA{A: 255}
	colBand = color.RGBA{R: 120, G: 120, B: 120, A: 255}
)

// writeFigure draws the 2x2 diagnostic figure of the history h and the
// window statistics s as PNG: d_st over t with y = 0 (upper left), r_t over t
// with its band (upper right), ccf of d_st and r_t (lower left), acf of d_st
// and r_t with the significance band (lower right).
func writeFigure(w io.Writer, h history, s *Stats, o options) error {
	plots := [][]*plot.Plot{{nil, nil}, {nil, nil}}
	var err error
	if plots[0][0], err = seriesPlot(h.T, h.D, "d_st", colDST, []float64{0}); err != nil {
		return err
	}
	if plots[0][1], err = seriesPlot(h.T, h.R, "r_t", colR, o.RBand[:]); err != nil {
		return err
	}
	if plots[1][0], err = ccfPlot(s); err != nil {
		return err
	}
	if plots[1][1], err = acfPlot(s); err != nil {
		return err
	}
	return render(w, plots, FigureWidth, FigureHeight)
}

// render draws a grid of plots on one canvas of wpx x hpx pixels and writes it as PNG.
func render(w io.Writer, plots [][]*plot.Plot, wpx, hpx int) error {
	px := vg.Inch / figureDPI
	img := vgimg.NewWith(vgimg.UseWH(vg.Length(wpx)*px, vg.Length(hpx)*px), vgimg.UseDPI(figureDPI))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(plots), Cols: len(plots[0]), PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	canvases := plot.Align(plots, tiles, dc)
	for i := range plots {
		for j := range plots[i] {
			plots[i][j].Draw(canvases[i][j])
		}
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); err != nil {
		return fmt.Errorf("encode png: %w", err)
	}
	return nil
}

// seriesPlot draws y over t (decimated above PlotPoints) with horizontal
// reference lines at refs.
func seriesPlot(t, y []float64, name string, c color.Color, refs []float64) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = name + " over iterations"
	p.X.Label.Text = "iteration t"
	p.Y.Label.Text = name
	dt, dy := series.Decimate(t, y, PlotPoints)
	if len(dt) > 0 {
		// The rasteriser's cost grows faster than linearly with the length
		// of one path, so the polyline is stroked in overlapping pieces.
		for lo := 0; lo < len(dt); lo += strokePiece {
			hi := min(len(dt), lo+strokePiece+1)
			l, err := plotter.NewLine(xys(dt[lo:hi], dy[lo:hi]))
			if err != nil {
				return nil, fmt.Errorf("%s panel: %w", name, err)
			}
			l.Color = c
			l.Width = vg.Points(0.6)
			p.Add(l)
		}
		lo, hi := dt[0], dt[len(dt)-1]
		if hi == lo {
			hi = lo + 1
		}
		for _, r := range refs {
			ref, err := plotter.NewLine(plotter.XYs{{X: lo, Y: r}, {X: hi, Y: r}})
			if err != nil {
				return nil, fmt.Errorf("%s panel: %w", name, err)
			}
			ref.Color = colRef
			ref.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(ref)
		}
	}
	return p, nil
}

// ccfPlot draws ccf(k) = corr(d_st[t], r_t[t+k]) as stems with the band.
func ccfPlot(s *Stats) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("cross-correlation corr(d_st[t], r_t[t+k]), last %d", s.N)
	p.X.Label.Text = "lag k"
	lags := make([]float64, len(s.CCFLags))
	for i, k := range s.CCFLags {
		lags[i] = float64(k)
	}
	if err := stems(p, lags, s.CCF, colDST, 0, ""); err != nil {
		return nil, fmt.Errorf("ccf panel: %w", err)
	}
	if err := bandLines(p, lags, s.Band); err != nil {
		return nil, fmt.Errorf("ccf panel: %w", err)
	}
	return p, nil
}

// acfPlot draws the autocorrelations of d_st and r_t side by side with the band.
func acfPlot(s *Stats) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("autocorrelation, last %d", s.N)
	p.X.Label.Text = "lag k"
	lags := make([]float64, len(s.ACFDST))
	for i := range lags {
		lags[i] = float64(i)
	}
	if err := stems(p, lags, s.ACFDST, colDST, -0.15, "d_st"); err != nil {
		return nil, fmt.Errorf("acf panel: %w", err)
	}
	if err := stems(p, lags, s.ACFR, colR, 0.15, "r_t"); err != nil {
		return nil, fmt.Errorf("acf panel: %w", err)
	}
	if err := bandLines(p, lags, s.Band); err != nil {
		return nil, fmt.Errorf("acf panel: %w", err)
	}
	p.Legend.Top = true
	return p, nil
}

// stems draws a vertical line from 0 to v[i] at x[i]+dx, with a dot on top,
// and a legend entry when label is not empty.
func stems(p *plot.Plot, x, v []float64, c color.Color, dx float64, label string) error {
	if len(x) == 0 {
		return nil
	}
	pts := make(plotter.XYs, len(x))
	for i := range x {
		pts[i] = plotter.XY{X: x[i] + dx, Y: v[i]}
		l, err := plotter.NewLine(plotter.XYs{{X: x[i] + dx, Y: 0}, pts[i]})
		if err != nil {
			return err
		}
		l.Color = c
		l.Width = vg.Points(1.5)
		p.Add(l)
	}
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return err
	}
	sc.Color = c
	sc.Shape = draw.CircleGlyph{}
	p.Add(sc)
	if label != "" {
		p.Legend.Add(label, sc)
	}
	return nil
}

// bandLines draws y = 0 and the dashed band y = +-b across the lags.
func bandLines(p *plot.Plot, lags []float64, b float64) error {
	if len(lags) == 0 {
		return nil
	}
	lo, hi := lags[0]-0.5, lags[len(lags)-1]+0.5
	for _, y := range []float64{0, b, -b} {
		l, err := plotter.NewLine(plotter.XYs{{X: lo, Y: y}, {X: hi, Y: y}})
		if err != nil {
			return err
		}
		l.Color = colBand
		if y != 0 {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		} else {
			l.Color = colRef
		}
		p.Add(l)
	}
	return nil
}

func xys(x, y []float64) plotter.XYs {
	pts := make(plotter.XYs, len(x))
	for i := range x {
		pts[i] = plotter.XY{X: x[i], Y: y[i]}
	}
	return pts
}
