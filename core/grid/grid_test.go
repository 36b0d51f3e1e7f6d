package grid

import (
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

func decode(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func rgb(img image.Image, x, y int) color.RGBA {
	return color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
}

func grey(v uint8) color.RGBA { return color.RGBA{v, v, v, 0xff} }

func TestImagesGrey(t *testing.T) {
	// Two 2x3 grey images in a 1x3 grid: all -1, then a pattern; the third
	// cell stays blank.
	x := sdk.NewTensor(sdk.Float32, 2, 1, 2, 3)
	for i := range 6 {
		x.F32[i] = -1
	}
	copy(x.F32[6:], []float32{1, 0, 0.5, 7, -3, float32(math.NaN())})
	path := filepath.Join(t.TempDir(), "samples.png")
	if err := Images(path, x, 1, 3); err != nil {
		t.Fatal(err)
	}
	img := decode(t, path)
	// 3 cells of width 3 and height 2, each with a 2-pixel frame.
	if b := img.Bounds(); b.Dx() != 3*5+2 || b.Dy() != 2+2+2 {
		t.Fatalf("image is %v, want 17 x 6", b)
	}
	for y := range 2 {
		for x := range 3 {
			if got := rgb(img, 2+x, 2+y); got != grey(0) {
				t.Fatalf("cell 0 (%d, %d) = %v, want black", x, y, got)
			}
		}
	}
	// Cell 1 starts at x = 2 + 5. Levels round((v+1)*127.5): 1 -> 255,
	// 0 -> 128 (127.5 rounds up), 0.5 -> 191, 7 -> clamped 255, -3 -> 0,
	// NaN -> as 0.
	want := []uint8{255, 128, 191, 255, 0, 128}
	for i, w := range want {
		if got := rgb(img, 7+i%3, 2+i/3); got != grey(w) {
			t.Errorf("cell 1 pixel %d = %v, want grey %d", i, got, w)
		}
	}
	// The frame and the blank third cell are Border.
	for _, p := range [][2]int{{0, 0}, {1, 1}, {5, 2}, {6, 3}, {16, 5}, {7, 4}, {12, 2}, {14, 3}} {
		if got := rgb(img, p[0], p[1]); got != Border {
			t.Errorf("pixel %v = %v, want the border colour %v", p, got, Border)
		}
	}
}

func TestImagesColour(t *testing.T) {
	// One 3-channel 1x2 image in a 2x2 grid: channels red, green, blue.
	x := sdk.FromFloat64([]float64{1, -1, -1, 1, -1, 0}, 1, 3, 1, 2)
	path := filepath.Join(t.TempDir(), "c.png")
	if err := Images(path, x, 2, 2); err != nil {
		t.Fatal(err)
	}
	img := decode(t, path)
	if b := img.Bounds(); b.Dx() != 2*4+2 || b.Dy() != 2*3+2 {
		t.Fatalf("image is %v, want 10 x 8", b)
	}
	if got := rgb(img, 2, 2); got != (color.RGBA{255, 0, 0, 255}) {
		t.Errorf("pixel 0 = %v, want red", got)
	}
	if got := rgb(img, 3, 2); got != (color.RGBA{0, 255, 128, 255}) {
		t.Errorf("pixel 1 = %v, want (0, 255, 128)", got)
	}
	for _, p := range [][2]int{{6, 2}, {2, 5}, {7, 6}} {
		if got := rgb(img, p[0], p[1]); got != Border {
			t.Errorf("blank cell pixel %v = %v, want %v", p, got, Border)
		}
	}
}

func TestImagesMoreThanCells(t *testing.T) {
	x := sdk.NewTensor(sdk.Float32, 5, 1, 1, 1)
	for i := range x.F32 {
		x.F32[i] = float32(i)/2 - 1 // -1, -0.5, 0, 0.5, 1
	}
	path := filepath.Join(t.TempDir(), "g.png")
	if err := Images(path, x, 2, 2); err != nil {
		t.Fatal(err)
	}
	img := decode(t, path)
	// Cells at x, y = 2 and 5; the fifth image is not drawn.
	for i, w := range []uint8{0, 64, 128, 191} {
		if got := rgb(img, 2+3*(i%2), 2+3*(i/2)); got != grey(w) {
			t.Errorf("cell %d = %v, want grey %d", i, got, w)
		}
	}
}

func TestImagesErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.png")
	cases := []struct {
		x          *sdk.Tensor
		rows, cols int
		want       string
	}{
		{sdk.NewTensor(sdk.Float32, 2, 2, 4, 4), 1, 2, "with c = 1 or 3 and h, w >= 1, received [2 2 4 4]"},
		{sdk.NewTensor(sdk.Float32, 2, 16), 1, 2, "received [2 16]"},
		{sdk.NewTensor(sdk.Float32, 2, 1, 0, 4), 1, 2, "received [2 1 0 4]"},
		{sdk.NewTensor(sdk.Float32, 2, 1, 4, 4), 0, 2, "rows and cols must be >= 1"},
		{sdk.NewTensor(sdk.Float32, 2, 1, 4, 4), 1, 100000, "exceed"},
		{nil, 1, 1, "nil tensor"},
		{&sdk.Tensor{DType: sdk.Float32, Shape: []int{1, 1, 2, 2}, F32: []float32{1}}, 1, 1, "holds 1 values"},
	}
	for _, c := range cases {
		err := Images(path, c.x, c.rows, c.cols)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Images(%v, %d, %d): %v, want %q", c.x, c.rows, c.cols, err, c.want)
		}
	}
	if err := Images(filepath.Join(dir, "missing", "x.png"), sdk.NewTensor(sdk.Float32, 1, 1, 1, 1), 1, 1); err == nil {
		t.Error("Images into a missing folder succeeded")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("failed writes left %d files", len(ents))
	}
}

func TestPoints(t *testing.T) {
	// size 100 over [-1, 1]: 50 pixels per unit.
	x := sdk.FromFloat32([]float32{
		0, 0, // pixel (50, 50)
		0, 0, // again: blended twice
		-0.5, 0.5, // pixel (25, 25)
		1, -1, // the corner (1, -1) falls in the last pixel (99, 99), under the frame
		1.5, 0, // outside the box
		float32(math.NaN()), 0,
		float32(math.Inf(1)), 0,
	}, 7, 2)
	path := filepath.Join(t.TempDir(), "p.png")
	if err := Points(path, x, [2]float64{-1, 1}, 100); err != nil {
		t.Fatal(err)
	}
	img := decode(t, path)
	if b := img.Bounds(); b.Dx() != 100 || b.Dy() != 100 {
		t.Fatalf("image is %v, want 100 x 100", b)
	}
	// One point over white: (c*77 + 255*178 + 127)/255 per channel.
	once := color.RGBA{
		uint8((0x1f*77 + 255*178 + 127) / 255),
		uint8((0x77*77 + 255*178 + 127) / 255),
		uint8((0xb4*77 + 255*178 + 127) / 255), 255,
	}
	twice := color.RGBA{
		uint8((0x1f*77 + uint32(once.R)*178 + 127) / 255),
		uint8((0x77*77 + uint32(once.G)*178 + 127) / 255),
		uint8((0xb4*77 + uint32(once.B)*178 + 127) / 255), 255,
	}
	if once != (color.RGBA{187, 214, 232, 255}) {
		t.Fatalf("expected blend arithmetic changed: %v", once)
	}
	checks := []struct {
		x, y int
		want color.RGBA
	}{
		{25, 25, once}, {50, 50, twice},
		{51, 50, grey(255)}, {24, 25, grey(255)}, {1, 1, grey(255)}, {98, 98, grey(255)},
		{0, 0, grey(0)}, {0, 50, grey(0)}, {99, 99, grey(0)}, {50, 99, grey(0)},
	}
	for _, c := range checks {
		if got := rgb(img, c.x, c.y); got != c.want {
			t.Errorf("pixel (%d, %d) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
	// Everything else is white or frame: count the coloured pixels.
	n := 0
	for y := 1; y < 99; y++ {
		for x := 1; x < 99; x++ {
			if rgb(img, x, y) != grey(255) {
				n++
			}
		}
	}
	if n != 2 {
		t.Errorf("%d pixels coloured inside the frame, want 2", n)
	}
}

func TestPointsLargeDots(t *testing.T) {
	// At size 512 a point covers a 5x5 square (radius 512/256 = 2).
	path := filepath.Join(t.TempDir(), "p.png")
	if err := Points(path, sdk.FromFloat64([]float64{0, 0}, 1, 2), [2]float64{-4, 4}, 512); err != nil {
		t.Fatal(err)
	}
	img := decode(t, path)
	for y := 250; y <= 262; y++ {
		for x := 250; x <= 262; x++ {
			in := x >= 254 && x <= 258 && y >= 254 && y <= 258
			if got := rgb(img, x, y); (got != grey(255)) != in {
				t.Errorf("pixel (%d, %d) = %v, inside the dot: %v", x, y, got, in)
			}
		}
	}
}

func TestPointsErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.png")
	ok := sdk.NewTensor(sdk.Float32, 3, 2)
	cases := []struct {
		x    *sdk.Tensor
		box  [2]float64
		size int
		want string
	}{
		{sdk.NewTensor(sdk.Float32, 3, 3), [2]float64{-1, 1}, 64, "want [n 2], received [3 3]"},
		{sdk.NewTensor(sdk.Float32, 6), [2]float64{-1, 1}, 64, "received [6]"},
		{ok, [2]float64{1, -1}, 64, "box must be"},
		{ok, [2]float64{0, 0}, 64, "box must be"},
		{ok, [2]float64{math.NaN(), 1}, 64, "box must be"},
		{ok, [2]float64{-1, math.Inf(1)}, 64, "box must be"},
		{ok, [2]float64{-1, 1}, 4, "size must be"},
		{nil, [2]float64{-1, 1}, 64, "nil tensor"},
	}
	for _, c := range cases {
		err := Points(path, c.x, c.box, c.size)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Points(%v, %v, %d): %v, want %q", c.x, c.box, c.size, err, c.want)
		}
		if c.x != nil && strings.Contains(c.want, "received") && !errors.Is(err, sdk.ErrShape) {
			t.Errorf("%v is not sdk.ErrShape", err)
		}
	}
}

func TestGridSide(t *testing.T) {
	for _, c := range []struct{ n, rows, cols int }{{64, 8, 8}, {100, 10, 10}, {16, 4, 4}, {32, 6, 6}, {30, 5, 6}, {1, 1, 1}, {500, 10, 10}} {
		if r, k := GridSide(c.n); r != c.rows || k != c.cols {
			t.Errorf("GridSide(%d) = %d x %d, want %d x %d", c.n, r, k, c.rows, c.cols)
		}
	}
}

func TestImagesFigure(t *testing.T) {
	x := sdk.NewTensor(sdk.Float32, 64, 1, 28, 28)
	for i := range x.F32 {
		x.F32[i] = 1 // white samples
	}
	path := filepath.Join(t.TempDir(), "g.png")
	if err := ImagesFigure(path, x, "negatives, t = 5 (64 samples)"); err != nil {
		t.Fatal(err)
	}
	img := decode(t, path)
	side := (8*(28+BorderWidth) + BorderWidth) * ImageScale
	if b := img.Bounds(); b.Dx() != side || b.Dy() != side+titleHeight {
		t.Fatalf("size %v, want %d x %d", b, side, side+titleHeight)
	}
	// The title is drawn (dark pixels in the strip); the first sample's
	// pixel block is white, the frame around it Border.
	dark := 0
	for y := 0; y < titleHeight; y++ {
		for xx := 0; xx < side; xx++ {
			if r, _, _, _ := img.At(xx, y).RGBA(); r < 0x4000 {
				dark++
			}
		}
	}
	if dark == 0 {
		t.Error("no title text")
	}
	at := func(x, y int) color.RGBA {
		r, g, b, a := img.At(x, y).RGBA()
		return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
	}
	if c := at(BorderWidth*ImageScale+1, titleHeight+BorderWidth*ImageScale+1); c != (color.RGBA{255, 255, 255, 255}) {
		t.Errorf("first sample pixel %v, want white", c)
	}
	if c := at(1, titleHeight+1); c != Border {
		t.Errorf("frame pixel %v, want %v", c, Border)
	}
}

func TestPointsFigure(t *testing.T) {
	x := sdk.FromFloat64([]float64{0, 0, 0.5, -0.5, 9, 9}, 3, 2)
	path := filepath.Join(t.TempDir(), "p.png")
	if err := PointsFigure(path, x, [2][2]float64{{-1, 1}, {-1, 1}}, "negatives, t = 3"); err != nil {
		t.Fatal(err)
	}
	if b := decode(t, path).Bounds(); b.Dx() != PointsSize || b.Dy() != PointsSize {
		t.Errorf("size %v", b)
	}
	// A box twice as wide as high: a plotting area (570 pixels less the
	// margin) half as high as wide; four times: drawn at most 2:1.
	for _, xh := range []float64{2, 4} {
		if err := PointsFigure(path, x, [2][2]float64{{-xh, xh}, {-1, 1}}, "wide box"); err != nil {
			t.Fatal(err)
		}
		if b := decode(t, path).Bounds(); b.Dx() != PointsSize || b.Dy() != 285+pointsMargin {
			t.Errorf("box %v x 2: size %v", 2*xh, b)
		}
	}
	if err := PointsFigure(path, x, [2][2]float64{{-1, 1}, {1, -1}}, "bad box"); err == nil {
		t.Error("reversed box accepted")
	}
}
