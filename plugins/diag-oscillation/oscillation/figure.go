package oscillation

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
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
	// colBandLine is the r_t band's colour, colBurn the burn-in shading.
	colBandLine = color.RGBA{R: 44, G: 160, B: 44, A: 255}
	colBurn     = color.RGBA{R: 230, G: 230, B: 230, A: 255}
)

// writeFigure draws the 2x2 diagnostic figure of the history h and the
// window statistics s as PNG, under a title naming the run, the iteration
// and the verdict with its reason (and a note line when not empty): d_st over t (upper left) and r_t over t
// with its band when there is one (upper right), the y-ranges fitted to the
// classifier's window with the burn-in shaded and clipped; the
// cross-correlation (lower left) and the autocorrelations (lower right)
// over the classifier's window with the 1.96/sqrt(n) band.
func writeFigure(w io.Writer, h history, s *Stats, o options, title, note string) error {
	plots := [][]*plot.Plot{{nil, nil}, {nil, nil}}
	var err error
	if plots[0][0], err = seriesPlot(h, h.D, "d_st", colDST, s, nil, ""); err != nil {
		return err
	}
	var band []float64
	bandName := ""
	if o.RBandSource != "" {
		band = o.RBand[:]
		bandName = fmt.Sprintf("r_t band [%g, %g] (%s)", o.RBand[0], o.RBand[1], o.RBandSource)
	}
	if plots[0][1], err = seriesPlot(h, h.R, "r_t", colR, s, band, bandName); err != nil {
		return err
	}
	if plots[1][0], err = ccfPlot(s); err != nil {
		return err
	}
	if plots[1][1], err = acfPlot(s); err != nil {
		return err
	}
	lines := []string{title, fmt.Sprintf("verdict: %s: %s", s.ClassName, s.Reason)}
	if note != "" {
		lines = append(lines, note)
	}
	return renderTitled(w, lines, plots, FigureWidth, FigureHeight)
}

// figureTitle is the first title line of the figures: the run folder, the
// stage and the last iteration.
func (p *Plugin) figureTitle() string {
	run := "(no run folder)"
	if p.runDir != "" {
		run = filepath.Base(p.runDir)
	}
	return fmt.Sprintf("%s, stage %q, t = %d", run, p.stage, p.lastT)
}

// figureNote is the diagnostics figure's third title line: the image
// quality diagnostic's last evaluation, or "".
func (p *Plugin) figureNote() string {
	if p.qual == nil {
		return ""
	}
	return p.qual.qualityLine()
}

// renderTitled draws title lines above a grid of plots.
func renderTitled(w io.Writer, lines []string, plots [][]*plot.Plot, wpx, hpx int) error {
	px := vg.Inch / figureDPI
	img := vgimg.NewWith(vgimg.UseWH(vg.Length(wpx)*px, vg.Length(hpx)*px), vgimg.UseDPI(figureDPI))
	dc := draw.New(img)
	head := titleBlock(dc, lines)
	body := draw.Crop(dc, 0, 0, 0, -head)
	tiles := draw.Tiles{Rows: len(plots), Cols: len(plots[0]), PadX: vg.Millimeter * 6, PadY: vg.Millimeter * 6,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	canvases := plot.Align(plots, tiles, body)
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

// titleBlock writes lines centred at the top of c (the first larger) and
// returns the height they take.
func titleBlock(c draw.Canvas, lines []string) vg.Length {
	y := c.Max.Y - vg.Millimeter*2
	for i, l := range lines {
		size := vg.Points(11)
		if i == 0 {
			size = vg.Points(14)
		}
		sty := draw.TextStyle{Color: color.Black, Font: font.Font{Typeface: "Liberation", Variant: "Sans", Size: size},
			XAlign: draw.XCenter, YAlign: draw.YTop, Handler: plot.DefaultTextHandler}
		c.FillText(sty, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: y}, l)
		y -= size * 1.4
	}
	return c.Max.Y - y + vg.Millimeter
}

// seriesPlot draws y over t (decimated above PlotPoints) with its y-range
// fitted to the classifier's window (robust: the 0.5% and 99.5% quantiles,
// widened), the burn-in shaded and whatever of it leaves the range clipped,
// a dashed line at y = 0 and, when band is set, the band's two lines, all
// named in a legend above the data.
func seriesPlot(h history, y []float64, name string, c color.Color, s *Stats, band []float64, bandName string) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = name + " over iterations"
	p.X.Label.Text = "iteration t"
	p.X.Tick.Marker = iterationTicks{}
	p.Y.Label.Text = name
	styleAxes(p)
	t := h.T
	dt, dy := series.Decimate(t, y, PlotPoints)
	if len(dt) == 0 {
		return p, nil
	}
	lo, hi := robustRange(y[min(s.BurnIn, len(y)):], band)
	// Headroom for the legend (top right), so it covers no data after the
	// burn-in.
	top := hi + 0.45*(hi-lo)
	clipped := false
	for _, v := range y {
		clipped = clipped || v < lo || v > top
	}
	x0, x1 := dt[0], math.Max(dt[len(dt)-1], dt[0]+1)
	if s.BurnIn > 0 && s.BurnIn <= len(t) {
		end := t[s.BurnIn-1]
		poly, err := plotter.NewPolygon(plotter.XYs{{X: t[0], Y: lo}, {X: end, Y: lo}, {X: end, Y: top}, {X: t[0], Y: top}})
		if err != nil {
			return nil, fmt.Errorf("%s panel: %w", name, err)
		}
		poly.Color = colBurn
		poly.LineStyle.Width = 0
		p.Add(poly)
		label := fmt.Sprintf("burn-in, t <= %d (%s)", int(end), s.BurnInRule)
		if clipped {
			label += ", clipped"
		}
		p.Legend.Add(label, poly)
	}
	var first *plotter.Line
	// The rasteriser's cost grows faster than linearly with the length of
	// one path, so the polyline is stroked in overlapping pieces.
	for i := 0; i < len(dt); i += strokePiece {
		j := min(len(dt), i+strokePiece+1)
		l, err := plotter.NewLine(xys(dt[i:j], dy[i:j]))
		if err != nil {
			return nil, fmt.Errorf("%s panel: %w", name, err)
		}
		l.Color = c
		l.Width = vg.Points(0.6)
		p.Add(l)
		if first == nil {
			first = l
		}
	}
	p.Legend.Add(name, first)
	zero, err := hline(x0, x1, 0, colRef, true)
	if err != nil {
		return nil, fmt.Errorf("%s panel: %w", name, err)
	}
	p.Add(zero)
	p.Legend.Add("y = 0", zero)
	for i, b := range band {
		l, err := hline(x0, x1, b, colBandLine, false)
		if err != nil {
			return nil, fmt.Errorf("%s panel: %w", name, err)
		}
		l.Width = vg.Points(1.2)
		p.Add(l)
		if i == 0 {
			p.Legend.Add(bandName, l)
		}
	}
	// Plotters widen the axes to their data when added: the ranges are set
	// last, and lines leaving them are clipped.
	p.X.Min, p.X.Max = x0, x1
	p.Y.Min, p.Y.Max = lo, top
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(10)
	return p, nil
}

// robustRange returns a y-range holding the 0.5%..99.5% quantiles of y (and
// the band), widened by 10% on each side; a flat series gets +-1.
func robustRange(y []float64, band []float64) (float64, float64) {
	if len(y) == 0 {
		return -1, 1
	}
	v := append([]float64(nil), y...)
	sort.Float64s(v)
	lo := v[int(0.005*float64(len(v)-1))]
	hi := v[int(math.Ceil(0.995*float64(len(v)-1)))]
	for _, b := range band {
		lo, hi = math.Min(lo, b), math.Max(hi, b)
	}
	lo, hi = math.Min(lo, 0), math.Max(hi, 0)
	if !(hi > lo) {
		return lo - 1, hi + 1
	}
	pad := 0.1 * (hi - lo)
	return lo - pad, hi + pad
}

// hline is a horizontal line at y from x0 to x1, dashed when asked.
func hline(x0, x1, y float64, c color.Color, dashed bool) (*plotter.Line, error) {
	l, err := plotter.NewLine(plotter.XYs{{X: x0, Y: y}, {X: x1, Y: y}})
	if err != nil {
		return nil, err
	}
	l.Color = c
	if dashed {
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	}
	return l, nil
}

// iterationTicks are gonum's default ticks with whole numbers labelled as
// whole numbers ("2500", not "2500.00", when the step is not round).
type iterationTicks struct{}

// Ticks implements plot.Ticker.
func (iterationTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i, t := range ts {
		if t.Label != "" && t.Value == math.Trunc(t.Value) && math.Abs(t.Value) < 1e15 {
			ts[i].Label = strconv.FormatFloat(t.Value, 'f', -1, 64)
		}
	}
	return ts
}

// styleAxes sets readable font sizes on a plot.
func styleAxes(p *plot.Plot) {
	p.Title.TextStyle.Font.Size = vg.Points(12)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = vg.Points(11)
		a.Tick.Label.Font.Size = vg.Points(10)
	}
}

// ccfPlot draws ccf(k) = corr(d_st[t], r_t[t+k]) as stems with the band.
func ccfPlot(s *Stats) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("cross-correlation corr(d_st[t], r_t[t+k]), t = %d..%d", s.TFirst, s.TLast)
	p.X.Label.Text = "lag k (k > 0: d_st leads)"
	styleAxes(p)
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
	p.Legend.Top = true
	p.Y.Max = math.Max(p.Y.Max, 1) + 0.3
	p.Y.Min = math.Min(p.Y.Min, -1)
	return p, nil
}

// acfPlot draws the autocorrelations of d_st and r_t side by side with the band.
func acfPlot(s *Stats) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("autocorrelation, t = %d..%d (classifier window)", s.TFirst, s.TLast)
	p.X.Label.Text = "lag k"
	styleAxes(p)
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
	p.Y.Max = math.Max(p.Y.Max, 1) + 0.45
	p.Y.Min = math.Min(p.Y.Min, -1)
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

// bandLines draws y = 0 and the dashed band y = +-b across the lags, the
// band named in the legend.
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
		if y == b {
			p.Legend.Add(fmt.Sprintf("+-1.96/sqrt(n), n = %.0f", math.Round(math.Pow(SignificanceZ/b, 2))), l)
		}
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
