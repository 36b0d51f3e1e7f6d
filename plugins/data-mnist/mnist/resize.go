package mnist

import "fmt"

// Resize modes for the size attribute.
const (
	ResizeBilinear = "bilinear"
	ResizePad      = "pad"
)

// pixelValue maps a byte to [-1, 1]: v/255*2 - 1.
var pixelValue = func() (t [256]float64) {
	for v := range t {
		t[v] = float64(v)/255*2 - 1
	}
	return t
}()

// taps returns, for each of out output positions, the two source indices and
// the weight of the second one for bilinear resampling from in positions with
// PyTorch's align_corners=False convention:
//
//	src = max((dst + 0.5) * in/out - 0.5, 0),  i0 = floor(src),
//	i1 = min(i0 + 1, in - 1),  w1 = src - i0,  v = (1-w1) x[i0] + w1 x[i1].
func taps(in, out int) (i0, i1 []int, w1 []float64) {
	i0, i1, w1 = make([]int, out), make([]int, out), make([]float64, out)
	scale := float64(in) / float64(out)
	for d := range out {
		s := max((float64(d)+0.5)*scale-0.5, 0)
		a := min(int(s), in-1)
		i0[d], i1[d], w1[d] = a, min(a+1, in-1), s-float64(a)
	}
	return i0, i1, w1
}

// Bilinear resamples the row-major inH x inW image src to outH x outW into
// dst (allocated when nil) with the rule of torch.nn.functional.interpolate
// (mode "bilinear", align_corners=False), which is what torchvision's
// Resize does to a tensor when upsampling (antialiasing only affects
// downsampling):
//
//	dst[y][x] = (1-wy)((1-wx) src[y0][x0] + wx src[y0][x1]) + wy((1-wx) src[y1][x0] + wx src[y1][x1])
//
// with (y0, y1, wy) and (x0, x1, wx) from the source coordinate
// max((d + 0.5) * in/out - 0.5, 0).
func Bilinear(dst []float64, outH, outW int, src []float64, inH, inW int) []float64 {
	if len(src) != inH*inW {
		panic(fmt.Sprintf("mnist.Bilinear: %d source values for %dx%d", len(src), inH, inW))
	}
	if dst == nil {
		dst = make([]float64, outH*outW)
	}
	y0, y1, wy := taps(inH, outH)
	x0, x1, wx := taps(inW, outW)
	for y := range outH {
		r0, r1 := src[y0[y]*inW:], src[y1[y]*inW:]
		for x := range outW {
			a, b := x0[x], x1[x]
			dst[y*outW+x] = (1-wy[y])*((1-wx[x])*r0[a]+wx[x]*r0[b]) + wy[y]*((1-wx[x])*r1[a]+wx[x]*r1[b])
		}
	}
	return dst
}

// preprocessor turns a Native x Native byte image into a Side x Side image
// in [-1, 1].
type preprocessor struct {
	Side int
	mode string
	// bilinear taps, shared by rows and columns (the image is square)
	i0, i1 []int
	w1     []float64
	buf    [Native * Native]float64
}

func newPreprocessor(side int, mode string) *preprocessor {
	p := &preprocessor{Side: side, mode: mode}
	if side != Native && mode == ResizeBilinear {
		p.i0, p.i1, p.w1 = taps(Native, side)
	}
	return p
}

// render writes the preprocessed image into dst[:Side*Side]: pixels scaled
// to [-1, 1], then resampled bilinearly (see Bilinear) or padded with -1
// equally on each side. Scaling first and resampling second equals the
// reverse order up to rounding, because bilinear weights sum to one.
func (p *preprocessor) render(dst []float64, img []byte) {
	s := p.Side
	switch {
	case s == Native:
		for i, v := range img {
			dst[i] = pixelValue[v]
		}
	case p.mode == ResizePad:
		pad := (s - Native) / 2
		for i := range dst[:s*s] {
			dst[i] = -1
		}
		for y := range Native {
			row := dst[(y+pad)*s+pad:]
			for x, v := range img[y*Native : (y+1)*Native] {
				row[x] = pixelValue[v]
			}
		}
	default:
		src := p.buf[:]
		for i, v := range img {
			src[i] = pixelValue[v]
		}
		for y := range s {
			r0, r1, wy := src[p.i0[y]*Native:], src[p.i1[y]*Native:], p.w1[y]
			for x := range s {
				a, b, wx := p.i0[x], p.i1[x], p.w1[x]
				dst[y*s+x] = (1-wy)*((1-wx)*r0[a]+wx*r0[b]) + wy*((1-wx)*r1[a]+wx*r1[b])
			}
		}
	}
}
