package mnist

import (
	"math"
	"testing"
)

// TestBilinearHand checks the 2x2 -> 4x4 case worked by hand: the source
// coordinates of outputs 0..3 are max(-0.25, 0), 0.25, 0.75, 1.25 (clamped
// to index 1), so a row [a, b] becomes [a, .75a+.25b, .25a+.75b, b]. These are
// also the values torch.nn.functional.interpolate gives for [[1,2],[3,4]].
func TestBilinearHand(t *testing.T) {
	got := Bilinear(nil, 4, 4, []float64{1, 2, 3, 4}, 2, 2)
	want := []float64{
		1, 1.25, 1.75, 2,
		1.5, 1.75, 2.25, 2.5,
		2.5, 2.75, 3.25, 3.5,
		3, 3.25, 3.75, 4,
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-15 {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

// TestTaps28to32 checks source coordinates (d + 0.5)*28/32 - 0.5 by hand.
func TestTaps28to32(t *testing.T) {
	i0, i1, w := taps(28, 32)
	for _, c := range []struct {
		d, i0, i1 int
		w         float64
	}{
		{0, 0, 1, 0},         // -0.0625 clamped to 0
		{1, 0, 1, 0.8125},    // 1.5*0.875 - 0.5
		{5, 4, 5, 0.3125},    // 5.5*0.875 - 0.5 = 4.3125
		{16, 13, 14, 0.9375}, // 13.9375
		{31, 27, 27, 0.0625}, // 27.0625: both taps on the last pixel
		{30, 26, 27, 0.1875}, // 26.1875
		{12, 10, 11, 0.4375}, // 10.4375
		{11, 9, 10, 0.5625},  // 9.5625
		{8, 6, 7, 0.9375},    // 6.9375
		{24, 20, 21, 0.9375}, // 20.9375
		{2, 1, 2, 0.6875},    // 1.6875
		{3, 2, 3, 0.5625},    // 2.5625
		{4, 3, 4, 0.4375},    // 3.4375
		{6, 5, 6, 0.1875},    // 5.1875
		{7, 6, 7, 0.0625},    // 6.0625
		{9, 7, 8, 0.8125},    // 7.8125
		{10, 8, 9, 0.6875},   // 8.6875
		{20, 17, 18, 0.4375}, // 17.4375
		{28, 24, 25, 0.4375}, // 24.4375
		{29, 25, 26, 0.3125}, // 25.3125
	} {
		if i0[c.d] != c.i0 || i1[c.d] != c.i1 || math.Abs(w[c.d]-c.w) > 1e-15 {
			t.Errorf("dst %d: taps (%d, %d, %v), want (%d, %d, %v)", c.d, i0[c.d], i1[c.d], w[c.d], c.i0, c.i1, c.w)
		}
	}
}

// TestTaps28to64: source coordinate (d + 0.5) * 0.4375 - 0.5.
func TestTaps28to64(t *testing.T) {
	i0, i1, w := taps(28, 64)
	for _, c := range []struct {
		d, i0, i1 int
		w         float64
	}{
		{0, 0, 1, 0},          // -0.28125 clamped to 0
		{1, 0, 1, 0.15625},    // 0.15625
		{10, 4, 5, 0.09375},   // 4.09375
		{31, 13, 14, 0.28125}, // 13.28125
		{62, 26, 27, 0.84375}, // 26.84375
		{63, 27, 27, 0.28125}, // 27.28125: both taps on the last pixel
	} {
		if i0[c.d] != c.i0 || i1[c.d] != c.i1 || math.Abs(w[c.d]-c.w) > 1e-15 {
			t.Errorf("dst %d: taps (%d, %d, %v), want (%d, %d, %v)", c.d, i0[c.d], i1[c.d], w[c.d], c.i0, c.i1, c.w)
		}
	}
}

// TestRenderSinglePixel upsamples a black image with one white pixel at
// (10, 10). Outputs 11 and 12 both put weight 0.5625 on source 10 (source
// coordinates 9.5625 and 10.4375), so output (11, 12) is
// -1 + 2 * 0.5625^2 = -0.3671875; output (13, 13) (source 11.3125) puts none.
func TestRenderSinglePixel(t *testing.T) {
	img := make([]byte, Native*Native)
	img[10*Native+10] = 255
	p := newPreprocessor(32, ResizeBilinear)
	dst := make([]float64, 32*32)
	p.render(dst, img)
	for _, c := range []struct {
		y, x int
		want float64
	}{{11, 12, -0.3671875}, {11, 11, -0.3671875}, {13, 13, -1}, {12, 11, -0.3671875}, {11, 13, -1}, {10, 10, -1}, {0, 0, -1}} {
		if got := dst[c.y*32+c.x]; math.Abs(got-c.want) > 1e-12 {
			t.Errorf("(%d, %d) = %v, want %v", c.y, c.x, got, c.want)
		}
	}
	// render agrees with Bilinear on the scaled image.
	src := make([]float64, Native*Native)
	for i, v := range img {
		src[i] = float64(v)/255*2 - 1
	}
	ref := Bilinear(nil, 32, 32, src, Native, Native)
	for i := range ref {
		if math.Abs(ref[i]-dst[i]) > 1e-15 {
			t.Fatalf("render and Bilinear differ at %d: %v, %v", i, dst[i], ref[i])
		}
	}
}

func TestRenderPadAndNative(t *testing.T) {
	img := make([]byte, Native*Native)
	for i := range img {
		img[i] = byte(i % 256)
	}
	pad := make([]float64, 32*32)
	newPreprocessor(32, ResizePad).render(pad, img)
	nat := make([]float64, Native*Native)
	newPreprocessor(Native, ResizeBilinear).render(nat, img)
	for y := range 32 {
		for x := range 32 {
			want := -1.0
			if y >= 2 && y < 30 && x >= 2 && x < 30 {
				want = nat[(y-2)*Native+x-2]
			}
			if pad[y*32+x] != want {
				t.Fatalf("pad (%d, %d) = %v, want %v", y, x, pad[y*32+x], want)
			}
		}
	}
	if nat[0] != -1 || nat[255] != 1 || math.Abs(nat[100]-(100.0/255*2-1)) > 1e-15 {
		t.Fatalf("scaling: %v %v %v", nat[0], nat[255], nat[100])
	}
}
