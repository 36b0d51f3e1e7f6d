package oscillation

import (
	"fmt"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"

	"github.com/ebmflow/ebmflow/plugins/diag-oscillation/oscillation/tv"
)

// DensityPanel is the pixel size of one panel of density.png; the figure is
// two panels wide (true and EBM density) or three with samples.
const DensityPanel = 400

// cellGrid adapts values on a tv.Grid (cell index iy*N+ix) to plotter.GridXYZ.
type cellGrid struct {
	g tv.Grid
	z []float64
}

func (c cellGrid) Dims() (int, int)     { return c.g.N, c.g.N }
func (c cellGrid) Z(ix, iy int) float64 { return c.z[iy*c.g.N+ix] }
func (c cellGrid) X(ix int) float64     { return c.g.Centre(ix) }
func (c cellGrid) Y(iy int) float64     { return c.g.Centre(iy) }

// writeDensityFigure draws the true density, the EBM density and, with
// short-run samples at hand (drawn through the linked sampler or handed over
// with SetSamples), their 2-D histogram, side by side as heat maps.
func writeDensityFigure(w io.Writer, d *density) error {
	panels := []*plot.Plot{
		heatPlot("true density", cellGrid{d.fine, d.truth}),
		heatPlot(fmt.Sprintf("EBM density exp(-U), TV %.3f", d.last.TVEBM), cellGrid{d.fine, d.last.model}),
	}
	if d.samples != nil {
		xy := make([]float64, d.samples.Len())
		for i := range xy {
			xy[i] = d.samples.At(i)
		}
		counts, _ := tv.Histogram(nil, xy, d.hist)
		panels = append(panels, heatPlot(fmt.Sprintf("%d short-run samples, TV %.3f", d.samples.Batch(), d.last.TVSamples),
			cellGrid{d.hist, counts}))
	}
	return render(w, [][]*plot.Plot{panels}, DensityPanel*len(panels), DensityPanel+20)
}

func heatPlot(title string, g cellGrid) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	pal := moreland.ExtendedBlackBody().Palette(255)
	h := plotter.NewHeatMap(g, pal)
	if !(h.Min < h.Max) {
		h.Min, h.Max = h.Min-0.5, h.Min+0.5
	}
	h.Rasterized = true
	p.Add(h)
	p.X.Min, p.X.Max = g.g.Lo, g.g.Hi
	p.Y.Min, p.Y.Max = g.g.Lo, g.g.Hi
	return p
}
