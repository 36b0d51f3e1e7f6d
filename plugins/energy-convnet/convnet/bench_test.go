package convnet

import (
	"context"
	"fmt"
	"testing"
	"time"
	"unsafe"

	"github.com/ebmflow/ebmflow/sdk"
)

// BenchmarkGrad measures the sampler's hot path at batch 100 and reports
// image-steps/s (samples whose gradient is computed per second).
func BenchmarkGrad(b *testing.B) {
	for _, c := range []struct {
		name string
		a    attrs
		n    int
	}{
		{"vanilla32/nf32/n100", attrs{"net": "vanilla", "epsilon": 0.015}, 100},
		{"vanilla28/nf32/n100", attrs{"net": "vanilla", "epsilon": 0.015, "image_size": 28}, 100},
		{"vanilla32/nf8/n100", attrs{"net": "vanilla", "epsilon": 0.015, "n_f": 8}, 100},
		{"vanilla32/nf32/n10", attrs{"net": "vanilla", "epsilon": 0.015}, 10},
		{"nonlocal32/nf32/n100", attrs{"net": "nonlocal", "epsilon": 0.015}, 100},
		{"toy/n100", attrs{"net": "toy", "epsilon": 0.125}, 100},
		{"toy/n1000", attrs{"net": "toy", "epsilon": 0.125}, 1000},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := configured(b, 1, c.a)
			x := randomBatch(p, c.n, 2)
			if _, _, err := p.Grad(context.Background(), x); err != nil { // compile
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu := startCPU()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := p.Grad(context.Background(), x); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report(b)
			b.ReportMetric(float64(c.n*b.N)/b.Elapsed().Seconds(), "image-steps/s")
		})
	}
}

// cpuClock measures the process's CPU time over a benchmark's loop, a
// figure less sensitive than the wall clock to other work on a shared
// machine (it still counts this process's time lost to cache misses and
// to waiting for spinning workers).
type cpuClock struct {
	t0 time.Duration
	ok bool
}

// startCPU starts a cpuClock.
func startCPU() cpuClock {
	t, ok := processCPU()
	return cpuClock{t, ok}
}

// report adds the CPU milliseconds per iteration, if this system gives them.
func (c cpuClock) report(b *testing.B) {
	if t, ok := processCPU(); ok && c.ok && b.N > 0 {
		b.ReportMetric(float64(t-c.t0)/1e6/float64(b.N), "cpu-ms/op")
	}
}

// BenchmarkUpdate measures one learning step on 100 positives and 100
// negatives.
func BenchmarkUpdate(b *testing.B) {
	for _, c := range []struct {
		size int
		opt  string
	}{{32, "sgd"}, {32, "adam"}, {28, "sgd"}} {
		opt := c.opt
		b.Run(fmt.Sprintf("vanilla%d/nf32/n100/%s", c.size, opt), func(b *testing.B) {
			p := configured(b, 1, attrs{"net": "vanilla", "epsilon": 0.01, "optimizer": opt, "image_size": c.size})
			pos, neg := randomBatch(p, 100, 2), randomBatch(p, 100, 3)
			req := sdk.UpdateRequest{Pos: pos, Neg: neg, LR: 1e-4}
			if _, err := p.Update(context.Background(), req); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu := startCPU()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := p.Update(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report(b)
			b.ReportMetric(float64(200*b.N)/b.Elapsed().Seconds(), "image-steps/s")
		})
	}
}

// BenchmarkMicroKernel measures each float32 micro-kernel this CPU runs on
// one 8x32 tile with a 256-long reduction, all operands in L1, in GFLOP/s
// of one core: the packed GEMM's (gemm), the indirect convolution's (ind:
// 8 taps of 32 channels, rows 64 floats apart, bias and LeakyReLU) and the
// direct filter gradient's (wg). It is the ceiling of the convolutions.
func BenchmarkMicroKernel(b *testing.B) {
	const kc = gemmKC
	flop := float64(2 * kc * gemmMR * gemmNR)
	for _, k := range float32Kernels() {
		b.Run("gemm/"+k.name, func(b *testing.B) {
			a, bb, c := make([]float32, kc*gemmMR), make([]float32, kc*gemmNR), make([]float32, gemmMR*gemmNR)
			for i := 0; i < b.N; i++ {
				k.fn(kc, a, bb, c, true)
			}
			b.ReportMetric(flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run("ind/"+k.name, func(b *testing.B) {
			x, w, bias := make([]float32, 8*64+8*32), make([]float32, kc*indNR), make([]float32, indNR)
			out := make([]float32, indMR*indNR)
			toff := make([]int64, 8)
			for t := range toff {
				toff[t] = int64(t * 32 * 4)
			}
			call := indCall{toff: unsafe.Pointer(&toff[0]), nt: 8, nc: 32, b: unsafe.Pointer(&w[0]),
				bias: unsafe.Pointer(&bias[0]), init: indBias, act: 1, slope: 0.05}
			for r := range call.arow {
				call.arow[r], call.crow[r] = unsafe.Pointer(&x[r*64]), unsafe.Pointer(&out[r*indNR])
			}
			for i := 0; i < b.N; i++ {
				k.ind(&call)
			}
			b.ReportMetric(flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run("wg/"+k.name, func(b *testing.B) {
			x, gz, c := make([]float32, kc*16), make([]float32, kc*indNR), make([]float32, indMR*indNR)
			bases := make([]unsafe.Pointer, kc)
			for i := range bases {
				bases[i] = unsafe.Pointer(&x[i*16])
			}
			call := wgCall{bases: unsafe.Pointer(&bases[0]), kc: kc,
				b: unsafe.Pointer(&gz[0]), bstride: indNR * 4, c: unsafe.Pointer(&c[0]), load: 1}
			for i := 0; i < b.N; i++ {
				k.wg(&call)
			}
			b.ReportMetric(flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkConvLayers measures the three convolution passes of each layer of
// VanillaNet 28x28, n_f = 32, batch 100, in GFLOP/s over all cores.
func BenchmarkConvLayers(b *testing.B) {
	a, err := vanillaArch(1, 32, 28)
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range a.Layers {
		g := layerGeom(l, 100)
		x := make([]float32, g.n*g.c*g.h*g.w)
		w := make([]float32, g.o*g.kd())
		bias := make([]float32, g.o)
		y := make([]float32, g.n*g.o*g.q())
		flop := float64(2 * g.n * g.o * g.kd() * g.q())
		var cw convWork[float32]
		for _, pass := range []struct {
			name string
			run  func()
		}{
			{"forward", func() { convForward(g, &cw, x, w, bias, 0.05, true, y, nil) }},
			{"input", func() { convInputGrad(g, &cw, gradAt[float32]{g: y, y: y, slope: 0.05, act: true}, w, x, 0, nil) }},
			{"filter", func() { convWeightGrad(g, &cw, x, gradAt[float32]{g: y, y: y, slope: 0.05, act: true}, w, 0) }},
		} {
			b.Run(fmt.Sprintf("%s/%s", l.Name, pass.name), func(b *testing.B) {
				pass.run()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					pass.run()
				}
				b.ReportMetric(flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
