package mnist

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/ebmflow/ebmflow/plugins/data-mnist/toy"
	"github.com/ebmflow/ebmflow/sdk"
)

// TestDataNoiseSD draws 100 copies of a single image (subset = 1) with
// data_noise 0.1 and checks the residual against the clean image: 102,400
// N(0, 0.1^2) values, so the sample sd has a standard error of
// 0.1/sqrt(2*102400) = 2.2e-4 and the mean one of 3.1e-4; both are checked
// to 5 standard errors.
func TestDataNoiseSD(t *testing.T) {
	needMNIST(t)
	const eps = 0.1
	p := configured(t, 11, map[string]any{"subset": 1, "data_noise": eps, "dtype": "float64"})
	clean := next(t, p, sdk.NextRequest{N: 1, Noise: 0, NoiseSet: true, Stream: "clean"})
	x := next(t, p, sdk.NextRequest{N: 100})
	if got := x.Shape; !slices.Equal(got, []int{100, 1, 32, 32}) {
		t.Fatalf("shape %v", got)
	}
	var s, s2 float64
	for i, v := range x.F64 {
		r := v - clean.F64[i%1024]
		s += r
		s2 += r * r
	}
	n := float64(len(x.F64))
	mean := s / n
	sd := math.Sqrt(s2/n - mean*mean)
	if math.Abs(mean) > 5*eps/math.Sqrt(n) || math.Abs(sd-eps) > 5*eps/math.Sqrt(2*n) {
		t.Fatalf("noise mean %.5f sd %.5f, want 0 and %v", mean, sd, eps)
	}
	// Overriding the noise sd per request.
	x = next(t, p, sdk.NextRequest{N: 10, Noise: 0.5, NoiseSet: true})
	s2 = 0
	for i, v := range x.F64 {
		s2 += (v - clean.F64[i%1024]) * (v - clean.F64[i%1024])
	}
	if sd := math.Sqrt(s2 / 10240); math.Abs(sd-0.5) > 0.02 { // se 0.0035
		t.Fatalf("override sd %v, want 0.5", sd)
	}
}

// TestUniformAndEpoch checks the draw orders on 20 distinct images: uniform
// draws repeat images within 20 draws (with replacement), epoch draws
// visit each image exactly once per 20 draws.
func TestUniformAndEpoch(t *testing.T) {
	needMNIST(t)
	for _, sampling := range []string{SamplingUniform, SamplingEpoch} {
		p := configured(t, 5, map[string]any{"subset": 20, "size": 28, "sampling": sampling})
		sums := map[float32]int{} // the pixel sum identifies each of the 20 images
		for i := range 20 {
			var s float32
			for _, v := range p.data.image(i) {
				s += float32(v)
			}
			sums[s] = i
		}
		if len(sums) != 20 {
			t.Fatal("pixel sums do not identify the images")
		}
		for epoch := range 3 {
			x := next(t, p, sdk.NextRequest{N: 20})
			seen := map[int]int{}
			for i := range 20 {
				var s float32
				for _, v := range x.F32[i*784 : (i+1)*784] {
					s += float32(math.Round(float64(v+1) * 255 / 2))
				}
				j, ok := sums[s]
				if !ok {
					t.Fatalf("%s: sample %d is none of the images", sampling, i)
				}
				seen[j]++
			}
			if sampling == SamplingEpoch && len(seen) != 20 {
				t.Fatalf("epoch %d visited %d distinct images, want 20", epoch, len(seen))
			}
			// P(20 uniform draws from 20 are all distinct) = 20!/20^20 = 2e-8.
			if sampling == SamplingUniform && len(seen) == 20 {
				t.Fatalf("uniform draws look like a permutation")
			}
		}
	}
}

// TestStreams checks that named streams are independent and seeded: a draw
// on one stream does not move another, the same seed repeats, another seed
// differs.
func TestStreams(t *testing.T) {
	ctx := context.Background()
	draw := func(p *Plugin, stream string) []float32 {
		x, err := p.Next(ctx, sdk.NextRequest{N: 4, Stream: stream})
		if err != nil {
			t.Fatal(err)
		}
		return x.F32
	}
	a := configured(t, 42, map[string]any{"dataset": "rings"})
	b := configured(t, 42, map[string]any{"dataset": "rings"})
	c := configured(t, 43, map[string]any{"dataset": "rings"})
	draw(a, "sampler:neg")
	if !slices.Equal(draw(a, ""), draw(b, "positives")) {
		t.Fatal("a draw on another stream moved the positives stream")
	}
	if slices.Equal(draw(a, ""), draw(c, "")) {
		t.Fatal("different seeds give the same draws")
	}
	if slices.Equal(draw(b, "x"), draw(b, "y")) {
		t.Fatal("different stream names give the same draws")
	}
}

func TestToyNext(t *testing.T) {
	ctx := context.Background()
	for name, box := range map[string]float64{"gmm": 1.6, "rings": 4.6} {
		p := configured(t, 1, map[string]any{"dataset": name, "batch_size": 7, "dtype": "float64"})
		info, err := p.Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(info.Shape, []int{2}) || info.Size != 0 || !info.HasDensity || len(info.Box) != 2 || math.Abs(info.Box[0][1]-box) > 1e-12 || info.Box[0][0] != -info.Box[0][1] || info.Box[1] != info.Box[0] {
			t.Fatalf("%s: describe %+v", name, info)
		}
		x := next(t, p, sdk.NextRequest{})
		if !slices.Equal(x.Shape, []int{7, 2}) || x.DType != sdk.Float64 {
			t.Fatalf("%s: next gave %v %v", name, x.DType, x.Shape)
		}
		ld, err := p.LogDensity(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 7 {
			if want := p.set.(toy.Dense).LogDensity(x.F64[2*i], x.F64[2*i+1]); ld.F64[i] != want || math.IsInf(want, 0) {
				t.Fatalf("%s: log-density %v, want %v", name, ld.F64[i], want)
			}
		}
		ld32, err := p.LogDensity(ctx, sdk.FromFloat32([]float32{1, 0}, 1, 2))
		if err != nil || ld32.DType != sdk.Float32 || !slices.Equal(ld32.Shape, []int{1}) {
			t.Fatalf("%s: float32 log-density %v, %v", name, ld32, err)
		}
		if _, err := p.LogDensity(ctx, sdk.FromFloat64([]float64{1, 2, 3}, 1, 3)); !errors.Is(err, sdk.ErrShape) {
			t.Fatalf("%s: [1 3] input gave %v", name, err)
		}
	}
}

func TestMNISTHasNoDensity(t *testing.T) {
	needMNIST(t)
	p := configured(t, 1, map[string]any{"subset": 5})
	_, err := p.LogDensity(context.Background(), sdk.NewTensor(sdk.Float32, 1, 1, 32, 32))
	if !errors.Is(err, sdk.ErrUnsupported) {
		t.Fatalf("got %v, want ErrUnsupported", err)
	}
}

func TestNextErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := New().Next(ctx, sdk.NextRequest{N: 1}); err == nil {
		t.Fatal("unconfigured plugin answered Next")
	}
	p := configured(t, 1, map[string]any{"dataset": "gmm"})
	for _, req := range []sdk.NextRequest{{N: -1}, {N: maxBatch + 1}, {N: 1, Noise: math.Inf(1), NoiseSet: true}} {
		if _, err := p.Next(ctx, req); err == nil {
			t.Errorf("%+v: no error", req)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := p.Next(cctx, sdk.NextRequest{N: 10}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v", err)
	}
}

// TestConcurrentStreams draws on two streams from two goroutines: each
// stream's sequence equals the one drawn alone by an identical plugin.
func TestConcurrentStreams(t *testing.T) {
	ctx := context.Background()
	shared := configured(t, 8, map[string]any{"dataset": "gmm", "data_noise": 0.1})
	alone := configured(t, 8, map[string]any{"dataset": "gmm", "data_noise": 0.1})
	got := make([][]float32, 2)
	done := make(chan error, 2)
	for g, name := range []string{"a", "b"} {
		go func() {
			for range 50 {
				x, err := shared.Next(ctx, sdk.NextRequest{N: 10, Stream: name})
				if err != nil {
					done <- err
					return
				}
				got[g] = append(got[g], x.F32...)
			}
			done <- nil
		}()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	for g, name := range []string{"a", "b"} {
		var want []float32
		for range 50 {
			want = append(want, next(t, alone, sdk.NextRequest{N: 10, Stream: name}).F32...)
		}
		if !slices.Equal(got[g], want) {
			t.Fatalf("stream %s drawn concurrently differs", name)
		}
	}
}
