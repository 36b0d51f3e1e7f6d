package grid

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/ebmflow/ebmflow/sdk"
)

// Figure sizes.
const (
	// ImageScale is how many screen pixels (a side) one sample pixel takes
	// in ImagesFigure.
	ImageScale = 4
	// MaxGridSide is the most cells a side of ImagesFigure's grid has (at
	// most MaxGridSide^2 samples are drawn).
	MaxGridSide = 10
	// titleHeight is the pixel height of a figure's title strip.
	titleHeight = 40
	// PointsSize is the pixel size of PointsFigure's longer side.
	PointsSize = 640
	// pointsMargin is about the pixels PointsFigure's title and axes take,
	// across and down alike.
	pointsMargin = 70
	figureDPI    = 96
)

// GridSide returns the rows and columns of a grid for n samples: the
// smallest square-ish grid holding them (8 x 8 for 64, 10 x 10 for 100), at
// most MaxGridSide a side.
func GridSide(n int) (rows, cols int) {
	n = max(1, min(n, MaxGridSide*MaxGridSide))
	cols = int(math.Ceil(math.Sqrt(float64(n))))
	rows = (n + cols - 1) / cols
	return rows, cols
}

// ImagesFigure writes to dst the image batch x (as Images: [n, c, h, w],
// values in [-1, 1]) on a grid sized to the batch (GridSide), every sample
// pixel drawn as ImageScale x ImageScale screen pixels, under a title strip
// with the given text.
func ImagesFigure(dst string, x *sdk.Tensor, title string) error {
	if err := x.Validate(); err != nil {
		return fmt.Errorf("grid: images: %w", err)
	}
	rows, cols := GridSide(x.Batch())
	small, err := imagesRGBA(x, rows, cols)
	if err != nil {
		return err
	}
	b := small.Bounds()
	w, h := b.Dx()*ImageScale, b.Dy()*ImageScale
	img := image.NewRGBA(image.Rect(0, 0, w, h+titleHeight))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for y := 0; y < h; y++ {
		for xx := 0; xx < w; xx++ {
			img.Set(xx, titleHeight+y, small.At(xx/ImageScale, y/ImageScale))
		}
	}
	return writeTitled(dst, img, title)
}

// writeTitled draws title centred in the top titleHeight pixels of img and
// writes it as PNG at dst.
func writeTitled(dst string, img *image.RGBA, title string) error {
	b := img.Bounds()
	px := vg.Inch / figureDPI
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(b.Dx())*px, vg.Length(b.Dy())*px), vgimg.UseDPI(figureDPI))
	dc := draw.New(c)
	dc.DrawImage(dc.Rectangle, img)
	sty := draw.TextStyle{Color: color.Black, Font: font.Font{Typeface: "Liberation", Variant: "Sans", Size: vg.Points(13)},
		XAlign: draw.XCenter, YAlign: draw.YCenter, Handler: plot.DefaultTextHandler}
	dc.FillText(sty, vg.Point{X: dc.Max.X / 2, Y: dc.Max.Y - vg.Length(titleHeight)*px/2}, title)
	return savePNG(dst, c)
}

// PointsFigure writes to dst a scatter plot of the 2-D batch x, shape
// [n, 2], with axes spanning the data's box box[0][0] <= x1 <= box[0][1],
// box[1][0] <= x2 <= box[1][1], the box drawn, and a title. The figure is
// PointsSize pixels on its longer side, the other chosen so that the
// plotting area (less about pointsMargin pixels of title and axes) has the
// box's aspect, held within [1/2, 2] (a longer box is drawn stretched).
// Points outside the box are counted in the title, not drawn.
func PointsFigure(dst string, x *sdk.Tensor, box [2][2]float64, title string) error {
	for _, b := range box {
		if err := checkPoints(x, b); err != nil {
			return err
		}
	}
	xlo, xhi, lo, hi := box[0][0], box[0][1], box[1][0], box[1][1]
	n := x.Shape[0]
	pts := make(plotter.XYs, 0, n)
	out := 0
	for i := 0; i < n; i++ {
		px, py := x.At(2*i), x.At(2*i+1)
		if !(px >= xlo && px <= xhi && py >= lo && py <= hi) {
			out++
			continue
		}
		pts = append(pts, plotter.XY{X: px, Y: py})
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s (%d points", title, n)
	if out > 0 {
		p.Title.Text += fmt.Sprintf(", %d outside the box", out)
	}
	p.Title.Text += ")"
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Label.Text, p.Y.Label.Text = "x1", "x2"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = xlo, xhi, lo, hi
	frame, err := plotter.NewLine(plotter.XYs{{X: xlo, Y: lo}, {X: xhi, Y: lo}, {X: xhi, Y: hi}, {X: xlo, Y: hi}, {X: xlo, Y: lo}})
	if err != nil {
		return fmt.Errorf("grid: points: %w", err)
	}
	frame.Color = Frame
	p.Add(frame)
	if len(pts) > 0 {
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return fmt.Errorf("grid: points: %w", err)
		}
		sc.Color = color.NRGBA{R: PointColor.R, G: PointColor.G, B: PointColor.B, A: 110}
		sc.GlyphStyle.Shape = draw.CircleGlyph{}
		sc.GlyphStyle.Radius = vg.Points(math.Max(1, 3-math.Log10(float64(len(pts)))/2))
		p.Add(sc)
	}
	px := vg.Inch / figureDPI
	w, h := PointsSize, PointsSize
	inner := float64(PointsSize - pointsMargin)
	if a := math.Min(2, math.Max(0.5, (hi-lo)/(xhi-xlo))); a > 1 {
		w = int(math.Round(inner/a)) + pointsMargin
	} else {
		h = int(math.Round(inner*a)) + pointsMargin
	}
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(w)*px, vg.Length(h)*px), vgimg.UseDPI(figureDPI))
	p.Draw(draw.Crop(draw.New(c), vg.Millimeter*2, -vg.Millimeter*4, vg.Millimeter*2, -vg.Millimeter*3))
	return savePNG(dst, c)
}

// savePNG writes a vgimg canvas as PNG at dst, atomically.
func savePNG(dst string, c *vgimg.Canvas) error {
	img, ok := c.Image().(*image.RGBA)
	if !ok {
		return fmt.Errorf("grid: write %s: unexpected canvas image", dst)
	}
	if dir := filepath.Dir(dst); dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return fmt.Errorf("grid: write %s: %w", dst, err)
		}
	}
	return writePNG(dst, img)
}

// writePNG encodes img as a PNG at dst atomically (sdk.AtomicWrite).
func writePNG(dst string, img image.Image) error {
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := sdk.AtomicWrite(dst, 0o644, func(w io.Writer) error { return enc.Encode(w, img) }); err != nil {
		return fmt.Errorf("grid: %w", err)
	}
	return nil
}
