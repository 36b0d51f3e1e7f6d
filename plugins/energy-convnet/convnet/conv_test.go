package convnet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refConv is the plain direct convolution (NCHW, OIHW), with bias and
// optional LeakyReLU, in float64.
func refConv(g convGeom, x, w, b []float64, slope float64, act bool) []float64 {
	y := make([]float64, g.n*g.o*g.q())
	for n := 0; n < g.n; n++ {
		for o := 0; o < g.o; o++ {
			for oy := 0; oy < g.oh; oy++ {
				for ox := 0; ox < g.ow; ox++ {
					s := b[o]
					for c := 0; c < g.c; c++ {
						for i := 0; i < g.k; i++ {
							for j := 0; j < g.k; j++ {
								iy, ix := oy*g.s-g.p+i, ox*g.s-g.p+j
								if iy < 0 || iy >= g.h || ix < 0 || ix >= g.w {
									continue
								}
								s += w[((o*g.c+c)*g.k+i)*g.k+j] * x[((n*g.c+c)*g.h+iy)*g.w+ix]
							}
						}
					}
					if act && s < 0 {
						s *= slope
					}
					y[((n*g.o+o)*g.oh+oy)*g.ow+ox] = s
				}
			}
		}
	}
	return y
}

// refConvGrads returns the input and filter gradients of sum(gz * z) for the
// convolution z (no bias, no activation), by the direct loops.
func refConvGrads(g convGeom, x, w, gz []float64) (gx, gw []float64) {
	gx = make([]float64, len(x))
	gw = make([]float64, len(w))
	for n := 0; n < g.n; n++ {
		for o := 0; o < g.o; o++ {
			for oy := 0; oy < g.oh; oy++ {
				for ox := 0; ox < g.ow; ox++ {
					d := gz[((n*g.o+o)*g.oh+oy)*g.ow+ox]
					for c := 0; c < g.c; c++ {
						for i := 0; i < g.k; i++ {
							for j := 0; j < g.k; j++ {
								iy, ix := oy*g.s-g.p+i, ox*g.s-g.p+j
								if iy < 0 || iy >= g.h || ix < 0 || ix >= g.w {
									continue
								}
								xi := ((n*g.c+c)*g.h+iy)*g.w + ix
								wi := ((o*g.c+c)*g.k+i)*g.k + j
								gx[xi] += w[wi] * d
								gw[wi] += x[xi] * d
							}
						}
					}
				}
			}
		}
	}
	return gx, gw
}

// convCases are random shapes with odd sizes, strides 1 to 3, paddings 0 to
// 2, kernels 1 to 5, plus the vanilla net's layers at a small batch.
func convCases() []convGeom {
	rng := rand.New(rand.NewPCG(8, 9))
	cs := []convGeom{
		newConvGeom(3, 1, 28, 28, 8, 3, 1, 1),
		newConvGeom(3, 8, 28, 28, 16, 4, 2, 1),
		newConvGeom(5, 16, 7, 7, 32, 4, 2, 1),
		newConvGeom(4, 64, 3, 3, 1, 3, 1, 0),
		newConvGeom(7, 5, 1, 1, 13, 1, 1, 0),  // a linear layer
		newConvGeom(2, 3, 9, 9, 300, 3, 1, 1), // more than gemmKC filters: input-gradient reduction in blocks
		newConvGeom(9, 2, 27, 25, 5, 3, 1, 1), // filter gradient over two super-blocks
		newConvGeom(3, 1, 11, 9, 32, 3, 1, 1), // fewer taps than filters: the transposed filter gradient
		newConvGeom(2, 3, 8, 8, 64, 3, 1, 1),
		// channels a multiple of 8, filters of 32: the direct filter
		// gradient, once over more than wgSuper positions
		newConvGeom(2, 64, 7, 7, 64, 4, 2, 1),
		newConvGeom(3, 24, 5, 6, 96, 3, 1, 2),
		newConvGeom(5, 8, 16, 16, 32, 3, 1, 1),
		// channels a multiple of 32: the input gradient added into gx in
		// place, taps on the padding sent to a dummy row
		newConvGeom(2, 32, 6, 5, 8, 3, 1, 2),
		// one input channel, stride 1, filters a multiple of 16: the first
		// layer's input gradient as dot products (AVX-512)
		newConvGeom(2, 1, 7, 6, 16, 5, 1, 2),
		newConvGeom(3, 1, 5, 5, 48, 2, 1, 0),
	}
	for len(cs) < 20 {
		k := 1 + rng.IntN(5)
		p := rng.IntN(3)
		h, w := k+rng.IntN(12), k+rng.IntN(12)
		g := newConvGeom(1+rng.IntN(6), 1+rng.IntN(40), h, w, 1+rng.IntN(40), k, 1+rng.IntN(3), p)
		if g.oh > 0 && g.ow > 0 {
			cs = append(cs, g)
		}
	}
	return cs
}

func randSlice(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 2*rng.Float64() - 1
	}
	return v
}

func to32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// maxRelErr returns max |got - want| / (1 + max |want|).
func maxRelErr[T float](got []T, want []float64) float64 {
	var d, m float64
	for i, w := range want {
		d = math.Max(d, math.Abs(float64(got[i])-w))
		m = math.Max(m, math.Abs(w))
	}
	return d / (1 + m)
}

// withKernel runs f with kernelF32 set to k.
func withKernel(k namedKernel, f func()) {
	old := kernelF32
	kernelF32 = k
	defer func() { kernelF32 = old }()
	f()
}

// toNHWC returns the NCHW batch v (n x c x h x w) laid out NHWC.
func toNHWC(v []float64, n, c, h, w int) []float64 {
	out := make([]float64, len(v))
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			for p := 0; p < h*w; p++ {
				out[(i*h*w+p)*c+ch] = v[(i*c+ch)*h*w+p]
			}
		}
	}
	return out
}

// fromNHWC is the inverse of toNHWC.
func fromNHWC[T float](v []T, n, c, h, w int) []T {
	out := make([]T, len(v))
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			for p := 0; p < h*w; p++ {
				out[(i*c+ch)*h*w+p] = v[(i*h*w+p)*c+ch]
			}
		}
	}
	return out
}

// TestConvKernelsAgainstReference runs the three convolution passes on
// random shapes with every kernel this CPU has (and in float64), with the
// input NHWC (a layer inside the net) and NCHW (the net's first layer), and
// compares them with the direct loops of refConv and refConvGrads.
func TestConvKernelsAgainstReference(t *testing.T) {
	for ci, g0 := range convCases() {
		rng := rand.New(rand.NewPCG(uint64(ci), 1))
		x := randSlice(rng, g0.n*g0.c*g0.h*g0.w)
		w := randSlice(rng, g0.o*g0.kd())
		b := randSlice(rng, g0.o)
		gz := randSlice(rng, g0.n*g0.o*g0.q())
		act := ci%2 == 0
		wantY := refConv(g0, x, w, b, 0.05, act)
		// With act, the derivative ops get dL/dy and y and apply the
		// LeakyReLU's derivative themselves: gz = dL/dy * (y > 0 ? 1 : slope).
		gy := gz
		ys := randSlice(rng, len(gz))
		if act {
			gy = make([]float64, len(gz))
			for i, v := range gz {
				gy[i] = v
				if !(ys[i] > 0) {
					gy[i] = v / 0.5
					gz[i] = gy[i] * 0.5
				}
			}
		}
		wantGX, wantGW := refConvGrads(g0, x, w, gz)
		gzIn := toNHWC(gy, g0.n, g0.o, g0.oh, g0.ow)
		yIn := toNHWC(ys, g0.n, g0.o, g0.oh, g0.ow)
		for _, nchw := range []bool{false, true} {
			g := g0
			g.nchw = nchw
			name := fmt.Sprintf("%d:n%d,c%d,%dx%d,o%d,k%d,s%d,p%d,nchw=%v", ci, g.n, g.c, g.h, g.w, g.o, g.k, g.s, g.p, nchw)
			xIn := x
			if !nchw {
				xIn = toNHWC(x, g.n, g.c, g.h, g.w)
			}
			// outputs back to NCHW for the comparison
			layout := func(y, gx []float64) ([]float64, []float64) {
				y = fromNHWC(y, g.n, g.o, g.oh, g.ow)
				if !nchw {
					gx = fromNHWC(gx, g.n, g.c, g.h, g.w)
				}
				return y, gx
			}
			check := func(kname string, y, gx, gw []float64, tol float64) {
				y, gx = layout(y, gx)
				for _, c := range []struct {
					what string
					e    float64
				}{{"forward", maxRelErr(y, wantY)}, {"input grad", maxRelErr(gx, wantGX)}, {"weight grad", maxRelErr(gw, wantGW)}} {
					if c.e > tol {
						t.Errorf("%s: %s %s: error %g", name, kname, c.what, c.e)
					}
				}
			}
			// float64 with the portable kernels: rounding only.
			y, gx, gw := convPasses(g, xIn, w, b, gzIn, yIn, act)
			check("float64", y, gx, gw, 1e-13)
			// float32 with every kernel this CPU runs; float32 sums of up to
			// a few thousand terms of size 1: tolerance 1e-5 relative to the
			// largest value (plus 1).
			for _, k := range float32Kernels() {
				withKernel(k, func() {
					y, gx, gw := convPasses(g, to32(xIn), to32(w), to32(b), to32(gzIn), to32(yIn), act)
					check("float32 kernel "+k.name, to64(y), to64(gx), to64(gw), 1e-5)
				})
			}
		}
	}
}

// convPasses runs the forward pass (bias b, LeakyReLU slope 0.05 if act)
// and, from dL/dy = gy at outputs ys (LeakyReLU slope 0.5 if act), the
// input and filter gradients of one convolution, with a fresh workspace.
func convPasses[T float](g convGeom, x, w, b, gy, ys []T, act bool) (y, gx, gw []T) {
	y = make([]T, g.n*g.o*g.q())
	gx = make([]T, len(x))
	gw = make([]T, len(w))
	var cw convWork[T]
	gz := gradAt[T]{g: gy, y: ys, slope: 0.5, act: act}
	convForward(g, &cw, x, w, b, 0.05, act, y, nil)
	convInputGrad(g, &cw, gz, w, gx, 0, nil)
	convWeightGrad(g, &cw, x, gz, gw, 0)
	return y, gx, gw
}

func to64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func TestMicroKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, kc := range []int{1, 2, 7, 64, 255, 256} {
		a, b := to32(randSlice(rng, kc*gemmMR)), to32(randSlice(rng, kc*gemmNR))
		c0 := to32(randSlice(rng, gemmMR*gemmNR))
		for _, load := range []bool{false, true} {
			want := append([]float32(nil), c0...)
			kernelGo(kc, a, b, want, load)
			for _, k := range float32Kernels() {
				got := append([]float32(nil), c0...)
				k.fn(kc, a, b, got, load)
				for i := range want {
					if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*(1+math.Abs(float64(want[i]))) {
						t.Fatalf("kernel %s kc %d load %v: c[%d] = %v, want %v", k.name, kc, load, i, got[i], want[i])
					}
				}
			}
		}
	}
}

func TestGradAtCopy(t *testing.T) {
	// The branch-free float32 copy agrees with the scalar rule
	// gz = g * (y > 0 ? 1 : slope), including at y = +0 and -0.
	rng := rand.New(rand.NewPCG(3, 3))
	for _, slope := range []float32{0, 0.05, 0.5} {
		g, y := to32(randSlice(rng, 67)), to32(randSlice(rng, 67))
		y[3], y[4] = 0, float32(math.Copysign(0, -1))
		d := gradAt[float32]{g: g, y: y, slope: slope, act: true}
		got := make([]float32, 60)
		d.copyTo(got, 5)
		d.copyTo(got[:2], 3)
		for i, v := range got {
			j := i + 5
			if i < 2 {
				j = i + 3
			}
			want := g[j]
			if !(y[j] > 0) {
				want = slope * g[j]
			}
			if v != want {
				t.Fatalf("slope %v: gz[%d] = %v, want %v (y %v, g %v)", slope, j, v, want, y[j], g[j])
			}
		}
	}
}
