package grid

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"

	"github.com/ebmflow/ebmflow/sdk"
)

// Border is the colour of the 2-pixel frame around every cell of Images, and
// of cells left blank. No sample pixel can have it: grey-scale images are
// drawn grey.
var Border = color.RGBA{R: 0x40, G: 0x60, B: 0xa0, A: 0xff}

// BorderWidth is the width in pixels of the frame between and around cells.
const BorderWidth = 2

// MaxPixels bounds the width and the height of a figure.
const MaxPixels = 1 << 14

// Images writes to dst a PNG of the image batch x, shape [n, c, h, w] with
// c = 1 (grey) or 3 (RGB), tiled row by row into rows x cols cells of h x w
// pixels, each surrounded by a BorderWidth frame of colour Border: the figure
// is cols*(w+2)+2 pixels wide and rows*(h+2)+2 high. A value v becomes the
// 8-bit level round((clamp(v, -1, 1) + 1) * 127.5), so -1 is black, +1 white
// and 0 is 128; NaN is drawn as 0. Cells beyond the n-th stay blank (Border);
// images beyond rows*cols are not drawn.
func Images(dst string, x *sdk.Tensor, rows, cols int) error {
	img, err := imagesRGBA(x, rows, cols)
	if err != nil {
		return err
	}
	return writePNG(dst, img)
}

// imagesRGBA draws the grid of Images in memory.
func imagesRGBA(x *sdk.Tensor, rows, cols int) (*image.RGBA, error) {
	if err := x.Validate(); err != nil {
		return nil, fmt.Errorf("grid: images: %w", err)
	}
	if len(x.Shape) != 4 || (x.Shape[1] != 1 && x.Shape[1] != 3) || x.Shape[2] < 1 || x.Shape[3] < 1 {
		return nil, fmt.Errorf("grid: images: %w: want [n c h w] with c = 1 or 3 and h, w >= 1, received %s", sdk.ErrShape, sdk.FormatShape(x.Shape))
	}
	if rows < 1 || cols < 1 {
		return nil, fmt.Errorf("grid: images: rows and cols must be >= 1, got %d x %d", rows, cols)
	}
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	if cols > MaxPixels/(w+BorderWidth) || rows > MaxPixels/(h+BorderWidth) {
		return nil, fmt.Errorf("grid: images: %d x %d cells of %d x %d pixels exceed %d pixels a side", rows, cols, h, w, MaxPixels)
	}
	img := image.NewRGBA(image.Rect(0, 0, cols*(w+BorderWidth)+BorderWidth, rows*(h+BorderWidth)+BorderWidth))
	draw.Draw(img, img.Bounds(), image.NewUniform(Border), image.Point{}, draw.Src)
	plane := h * w
	for i := 0; i < n && i < rows*cols; i++ {
		x0 := BorderWidth + (i%cols)*(w+BorderWidth)
		y0 := BorderWidth + (i/cols)*(h+BorderWidth)
		base := i * c * plane
		for y := range h {
			p := img.PixOffset(x0, y0+y)
			for xx := range w {
				k := base + y*w + xx
				r := level(x.At(k))
				g, b := r, r
				if c == 3 {
					g, b = level(x.At(k+plane)), level(x.At(k+2*plane))
				}
				img.Pix[p], img.Pix[p+1], img.Pix[p+2], img.Pix[p+3] = r, g, b, 0xff
				p += 4
			}
		}
	}
	return img, nil
}

// level maps [-1, 1] to 0..255.
func level(v float64) uint8 {
	switch {
	case math.IsNaN(v):
		v = 0
	case v < -1:
		v = -1
	case v > 1:
		v = 1
	}
	return uint8(math.Round((v + 1) * 127.5))
}
