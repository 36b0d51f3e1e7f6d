package oscillation

import (
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/ebmflow/ebmflow/plugins/diag-oscillation/oscillation/tv"
)

// DensityPanel is the pixel size of the longer side of one panel of
// density.png (the shorter follows the plot box's aspect, see panelSize);
// the figure is two panels wide (true and EBM density) or
// three with samples, plus a colour bar, and two rows high (density and
// log-density).
const DensityPanel = 400

// densityBar is the pixel width of the colour bar column; densityLogSpan is
// the range of the log-density row below its maximum, in nats.
const (
	densityBar     = 110
	densityLogSpan = 12.0
)

// cellGrid adapts values on a tv.Grid (cell index iy*N+ix) to plotter.GridXYZ.
type cellGrid struct {
	g tv.Grid
	z []float64
}

func (c cellGrid) Dims() (int, int)     { return c.g.N, c.g.N }
func (c cellGrid) Z(ix, iy int) float64 { return c.z[iy*c.g.N+ix] }
func (c cellGrid) X(ix int) float64     { return c.g.CentreX(ix) }
func (c cellGrid) Y(iy int) float64     { return c.g.CentreY(iy) }

// panelSize returns a panel's width and height in pixels for grid g: the
// longer side DensityPanel, the other chosen so that the plotting area
// (the panel less panelMargin pixels of title and axes) has the aspect of
// g's box, held within [1/2, 2] (a longer box is drawn stretched).
func panelSize(g tv.Grid) (w, h int) {
	a := (g.Y.Hi - g.Y.Lo) / (g.X.Hi - g.X.Lo)
	a = math.Min(2, math.Max(0.5, a))
	inner := float64(DensityPanel - panelMargin)
	if a > 1 {
		return int(math.Round(inner/a)) + panelMargin, DensityPanel
	}
	return DensityPanel, int(math.Round(inner*a)) + panelMargin
}

// panelMargin is about the pixels a panel's title and axes take, across
// and down alike.
const panelMargin = 60

// writeDensityFigure draws the last evaluation of d: the true density, the
// EBM density exp(-U) and, with short-run samples, their histogram, as
// densities per unit area, each panel on its own scale from 0 to its peak
// (top row: a sharp EBM peaks tens of times higher than the truth, and one
// shared scale would leave the other panels black; the titles give the
// peaks), and as log-densities on one shared scale (bottom row, the last
// densityLogSpan nats below the highest peak), each row with its colour
// bar, under a title naming the stage and the iteration.
func writeDensityFigure(w io.Writer, d *density, stage string) error {
	r := d.last
	area := func(g tv.Grid) float64 { return g.CellArea() }
	type panel struct {
		title string
		g     cellGrid
	}
	scale := func(z []float64, f float64) []float64 {
		out := make([]float64, len(z))
		for i, v := range z {
			out[i] = v * f
		}
		return out
	}
	panels := []panel{
		{"true density", cellGrid{d.fine, scale(d.truth, 1/area(d.fine))}},
		{fmt.Sprintf("EBM exp(-U), TV_ebm %.3f", r.TVEBM), cellGrid{d.fine, scale(r.model, 1/area(d.fine))}},
	}
	if d.samples != nil && r.HasSamples {
		xy := make([]float64, d.samples.Len())
		for i := range xy {
			xy[i] = d.samples.At(i)
		}
		counts, _ := tv.Histogram(nil, xy, d.hist)
		n := float64(d.samples.Batch())
		panels = append(panels, panel{fmt.Sprintf("%d samples, TV_samples %.3f", d.samples.Batch(), r.TVSamples),
			cellGrid{d.hist, scale(counts, 1/(n*area(d.hist)))}})
	}
	peaks := make([]float64, len(panels))
	var hi float64
	for i, p := range panels {
		for _, v := range p.g.z {
			peaks[i] = math.Max(peaks[i], v)
		}
		hi = math.Max(hi, peaks[i])
	}
	if !(hi > 0) {
		hi = 1
	}
	logHi := math.Log(hi)
	logLo := logHi - densityLogSpan
	k := len(panels)
	pwpx, phpx := panelSize(d.fine)
	wpx, hpx := pwpx*k+densityBar, 2*phpx+70
	px := vg.Inch / figureDPI
	img := vgimg.NewWith(vgimg.UseWH(vg.Length(wpx)*px, vg.Length(hpx)*px), vgimg.UseDPI(figureDPI))
	dc := draw.New(img)
	head := titleBlock(dc, []string{
		fmt.Sprintf("density at t = %d, stage %q", r.T, stage),
		fmt.Sprintf("TV_ebm %.3f, TV_samples %s, noise floor %.3f +- %.3f (mean, sd over %d sets of %d exact draws)",
			r.TVEBM, samplesText(r), r.TVFloor, r.TVFloorSD, FloorReps, FloorDraws),
	})
	body := draw.Crop(dc, 0, 0, 0, -head)
	rowH := (body.Max.Y - body.Min.Y) / 2
	pal := moreland.ExtendedBlackBody().Palette(255)
	for row := 0; row < 2; row++ {
		top := body.Max.Y - vg.Length(row)*rowH
		rc := draw.Canvas{Canvas: body.Canvas, Rectangle: vg.Rectangle{Min: vg.Point{X: body.Min.X, Y: top - rowH}, Max: vg.Point{X: body.Max.X, Y: top}}}
		lo, up, what := 0.0, 1.0, "density / panel peak"
		if row == 1 {
			lo, up, what = logLo, logHi, "log density"
		}
		pw := vg.Length(pwpx) * px
		for i, p := range panels {
			z := make([]float64, len(p.g.z))
			title := fmt.Sprintf("log density: %s", p.title)
			if row == 0 {
				peak := peaks[i]
				if !(peak > 0) {
					peak = 1
				}
				for j, v := range p.g.z {
					z[j] = v / peak
				}
				title = fmt.Sprintf("%s, peak %.3g", p.title, peaks[i])
			} else {
				for j, v := range p.g.z {
					z[j] = math.Max(math.Log(v), logLo)
				}
			}
			pl := heatPlot(title, cellGrid{p.g.g, z}, pal, lo, up)
			c := draw.Crop(rc, vg.Length(i)*pw, -(rc.Max.X-rc.Min.X)+vg.Length(i+1)*pw, 0, 0)
			pl.Draw(draw.Crop(c, vg.Millimeter*2, -vg.Millimeter*2, vg.Millimeter*2, -vg.Millimeter*2))
		}
		bar := draw.Crop(rc, vg.Length(k)*pw, 0, 0, 0)
		if err := colourBar(bar, pal, lo, up, what); err != nil {
			return err
		}
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); err != nil {
		return fmt.Errorf("encode png: %w", err)
	}
	return nil
}

func samplesText(r densityResult) string {
	if !r.HasSamples {
		return "none"
	}
	return fmt.Sprintf("%.3f", r.TVSamples)
}

// heatPlot draws g on the colour scale [lo, hi] with the data box as
// the axes' range.
func heatPlot(title string, g cellGrid, pal palette.Palette, lo, hi float64) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(10)
	h := plotter.NewHeatMap(g, pal)
	h.Min, h.Max = lo, hi
	cs := pal.Colors()
	h.Underflow, h.Overflow = cs[0], cs[len(cs)-1]
	h.Rasterized = true
	p.Add(h)
	p.X.Min, p.X.Max = g.g.X.Lo, g.g.X.Hi
	p.Y.Min, p.Y.Max = g.g.Y.Lo, g.g.Y.Hi
	p.X.Label.Text, p.Y.Label.Text = "x1", "x2"
	return p
}

// colourBar draws a vertical colour bar of pal over [lo, hi] into c.
func colourBar(c draw.Canvas, pal palette.Palette, lo, hi float64, label string) error {
	cm := moreland.ExtendedBlackBody()
	cm.SetMin(lo)
	cm.SetMax(hi)
	p := plot.New()
	p.HideX()
	p.Y.Label.Text = label
	p.Add(&plotter.ColorBar{ColorMap: cm, Vertical: true, Colors: len(pal.Colors())})
	p.Y.Min, p.Y.Max = lo, hi
	p.BackgroundColor = color.White
	p.Draw(draw.Crop(c, vg.Millimeter*6, -vg.Millimeter*8, vg.Millimeter*14, -vg.Millimeter*10))
	return nil
}
