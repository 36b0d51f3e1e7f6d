package grid

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"

	"github.com/ebmflow/ebmflow/sdk"
)

// PointColor is the colour of a point in Points, blended over what is below
// it with opacity PointAlpha/255: out = (PointColor*a + below*(255-a) + 127)/255
// per channel, in integers.
var PointColor = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}

// PointAlpha is the opacity of one point, out of 255.
const PointAlpha = 77

// Frame is the colour of the 1-pixel axes box around a scatter plot.
var Frame = color.RGBA{A: 0xff}

// Points writes to dst a size x size PNG scatter plot of the 2-D batch x,
// shape [n, 2], over the square box[0] <= x, y <= box[1], on white inside a
// 1-pixel axes box of colour Frame. Point (x, y) covers the pixel in column
// floor((x-box[0])/(box[1]-box[0])*size) and row floor((box[1]-y)/(box[1]-box[0])*size)
// (y grows upward; the edge box[1] falls in the last pixel), and for
// size >= 256 the square of radius size/256 around it. Points are blended
// with opacity PointAlpha, so dense regions darken; points outside the box
// and non-finite points are not drawn. The frame is drawn last.
func Points(dst string, x *sdk.Tensor, box [2]float64, size int) error {
	if err := checkPoints(x, box); err != nil {
		return err
	}
	lo, hi := box[0], box[1]
	if size < 8 || size > MaxPixels {
		return fmt.Errorf("grid: points: size must be in [8, %d], got %d", MaxPixels, size)
	}
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	r := size / 256
	scale := float64(size) / (hi - lo)
	const a = PointAlpha
	for i := range x.Shape[0] {
		px, py := x.At(2*i), x.At(2*i+1)
		if !(px >= lo && px <= hi && py >= lo && py <= hi) {
			continue
		}
		cx := min(int((px-lo)*scale), size-1)
		cy := min(int((hi-py)*scale), size-1)
		for y := max(cy-r, 0); y <= min(cy+r, size-1); y++ {
			p := img.PixOffset(max(cx-r, 0), y)
			for xx := max(cx-r, 0); xx <= min(cx+r, size-1); xx++ {
				img.Pix[p] = blend(PointColor.R, img.Pix[p], a)
				img.Pix[p+1] = blend(PointColor.G, img.Pix[p+1], a)
				img.Pix[p+2] = blend(PointColor.B, img.Pix[p+2], a)
				p += 4
			}
		}
	}
	u := image.NewUniform(Frame)
	for _, rect := range []image.Rectangle{
		image.Rect(0, 0, size, 1), image.Rect(0, size-1, size, size),
		image.Rect(0, 0, 1, size), image.Rect(size-1, 0, size, size),
	} {
		draw.Draw(img, rect, u, image.Point{}, draw.Src)
	}
	return writePNG(dst, img)
}

// blend puts src with opacity a/255 over dst.
func blend(src, dst uint8, a uint32) uint8 {
	return uint8((uint32(src)*a + uint32(dst)*(255-a) + 127) / 255)
}

// checkPoints checks a 2-D batch, shape [n, 2], and its plot box.
func checkPoints(x *sdk.Tensor, box [2]float64) error {
	if err := x.Validate(); err != nil {
		return fmt.Errorf("grid: points: %w", err)
	}
	if len(x.Shape) != 2 || x.Shape[1] != 2 {
		return fmt.Errorf("grid: points: %w: want [n 2], received %s", sdk.ErrShape, sdk.FormatShape(x.Shape))
	}
	if lo, hi := box[0], box[1]; !(lo < hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return fmt.Errorf("grid: points: box must be [lo, hi] with finite lo < hi, got %v", box)
	}
	return nil
}
