package sweep

import (
	"fmt"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Plot writes a PNG comparing the points: d_st mean ± one standard
// deviation over each run's final window, with the y = 0 line that
// convergent learning oscillates around; r_t mean over the same window;
// and, when any point has one, the density total variation. Points are
// along x by index; absent values leave gaps.
func Plot(w io.Writer, title string, rows []Row) error {
	names := make([]string, len(rows))
	for i, r := range rows {
		names[i] = fmt.Sprint(r.Index)
	}
	dst, err := panel(title+": d_st over the final window (mean ± sd)", "d_st", names)
	if err != nil {
		return err
	}
	var pts plotter.XYs
	var errs plotter.YErrors
	for i, r := range rows {
		if math.IsNaN(r.DSTMean) || math.IsInf(r.DSTMean, 0) {
			continue
		}
		sd := r.DSTSD
		if math.IsNaN(sd) {
			sd = 0
		}
		pts = append(pts, plotter.XY{X: float64(i), Y: r.DSTMean})
		errs = append(errs, struct{ Low, High float64 }{sd, sd})
	}
	zero := plotter.NewFunction(func(float64) float64 { return 0 })
	zero.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
	dst.Add(zero)
	if len(pts) > 0 {
		sc, _ := plotter.NewScatter(pts)
		sc.GlyphStyle.Shape = draw.CircleGlyph{}
		sc.GlyphStyle.Radius = vg.Points(3)
		eb, err := plotter.NewYErrorBars(struct {
			plotter.XYs
			plotter.YErrors
		}{pts, errs})
		if err != nil {
			return err
		}
		dst.Add(sc, eb)
	}
	plots := [][]*plot.Plot{{dst}}

	r, err := panel("r_t over the final window (mean)", "r_t", names)
	if err != nil {
		return err
	}
	if err := addPoints(r, rows, func(r Row) float64 { return r.RMean }); err != nil {
		return err
	}
	plots = append(plots, []*plot.Plot{r})

	anyTV := false
	for _, row := range rows {
		anyTV = anyTV || !math.IsNaN(row.TV)
	}
	if anyTV {
		tv, err := panel("density total variation (EBM vs true)", "TV", names)
		if err != nil {
			return err
		}
		if err := addPoints(tv, rows, func(r Row) float64 { return r.TV }); err != nil {
			return err
		}
		plots = append(plots, []*plot.Plot{tv})
	}

	const width, rowHeight = 8 * vg.Inch, 3 * vg.Inch
	img := vgimg.NewWith(vgimg.UseWH(width, rowHeight*vg.Length(len(plots))), vgimg.UseDPI(96))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(plots), Cols: 1, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	canvases := plot.Align(plots, tiles, dc)
	for i := range plots {
		plots[i][0].Draw(canvases[i][0])
	}
	_, err = vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

func panel(title, y string, names []string) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "point"
	p.Y.Label.Text = y
	p.X.Min, p.X.Max = -0.5, float64(len(names))-0.5
	p.NominalX(names...)
	p.Add(plotter.NewGrid())
	return p, nil
}

func addPoints(p *plot.Plot, rows []Row, v func(Row) float64) error {
	var pts plotter.XYs
	for i, r := range rows {
		if y := v(r); !math.IsNaN(y) && !math.IsInf(y, 0) {
			pts = append(pts, plotter.XY{X: float64(i), Y: y})
		}
	}
	if len(pts) == 0 {
		return nil
	}
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return err
	}
	sc.GlyphStyle.Shape = draw.CircleGlyph{}
	sc.GlyphStyle.Radius = vg.Points(3)
	p.Add(sc)
	return nil
}
