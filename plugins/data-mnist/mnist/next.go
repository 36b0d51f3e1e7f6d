package mnist

import (
	"context"
	"fmt"
	"math"

	"github.com/ebmflow/ebmflow/sdk"
)

// stream is the random state of one named consumer. rng draws the uniform
// indices, the toy samples and the noise; shuffle draws the epoch
// permutations (sampling = "epoch" only).
type stream struct {
	rng     *sdk.Stream
	shuffle *sdk.Stream
	// shuffleStart is shuffle's state before perm was drawn, so a saved
	// state can rebuild perm instead of storing it.
	shuffleStart []byte
	perm         []int32
	pos          int
	epoch        int
}

func newStream(seed uint64, name string) *stream {
	return &stream{
		rng:     sdk.NewStream(seed, "next/"+name),
		shuffle: sdk.NewStream(seed, "next/"+name+"/shuffle"),
	}
}

// nextIndex returns the next image index: uniform with replacement, or the
// next entry of the current permutation, drawing a new one (Fisher-Yates) at
// the start of each epoch.
func (s *stream) nextIndex(n int, sampling string) int {
	if sampling != SamplingEpoch {
		return s.rng.IntN(n)
	}
	if s.perm == nil || s.pos == len(s.perm) {
		s.newEpoch(n)
	}
	j := s.perm[s.pos]
	s.pos++
	return int(j)
}

func (s *stream) newEpoch(n int) {
	s.shuffleStart, _ = s.shuffle.MarshalBinary()
	s.perm = permute(s.shuffle, n, s.perm)
	s.pos = 0
	s.epoch++
}

// permute returns a uniformly random permutation of 0..n-1 (Fisher-Yates),
// reusing dst's storage.
func permute(rng *sdk.Stream, n int, dst []int32) []int32 {
	dst = dst[:0]
	for i := range n {
		dst = append(dst, int32(i))
	}
	for i := n - 1; i > 0; i-- {
		j := rng.IntN(i + 1)
		dst[i], dst[j] = dst[j], dst[i]
	}
	return dst
}

// Next returns req.N positives (batch_size when 0) drawn on the named stream
// (DefaultStream when unnamed):
//
//	X+ = x_j + eps_data * Q,  Q ~ N(0, I),
//
// with j uniform over the images (or the epoch order), or x_j an exact toy
// sample. eps_data is data_noise, or req.Noise when req.NoiseSet and
// req.Noise >= 0. The result is [n, 1, S, S] (MNIST) or [n, 2] (toy).
// A request with Split set asks for held-out images (heldOut).
func (p *Plugin) Next(ctx context.Context, req sdk.NextRequest) (*sdk.Tensor, error) {
	if req.Split != "" {
		return p.heldOut(ctx, req)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.ready {
		return nil, errNotConfigured
	}
	n := req.N
	if n == 0 {
		n = p.p.BatchSize
	}
	if n < 0 || n > maxBatch {
		return nil, fmt.Errorf("data-mnist: next: batch of %d samples, want 1 to %d", n, maxBatch)
	}
	eps := p.p.DataNoise
	if req.NoiseSet && req.Noise >= 0 {
		eps = req.Noise
	}
	if math.IsNaN(eps) || math.IsInf(eps, 0) {
		return nil, fmt.Errorf("data-mnist: next: noise sd %v is not finite", eps)
	}
	name := req.Stream
	if name == "" {
		name = DefaultStream
	}
	s, ok := p.streams[name]
	if !ok {
		s = newStream(p.seed, name)
		p.streams[name] = s
	}
	shape := append([]int{n}, p.p.sampleShape()...)
	out := sdk.NewTensor(p.p.DType, shape...)
	d := sdk.NumElements(shape[1:])
	if cap(p.scratch) < d {
		p.scratch = make([]float64, d)
	}
	x := p.scratch[:d]
	for i := range n {
		if i%256 == 0 && ctx.Err() != nil {
			return nil, fmt.Errorf("data-mnist: next: %w", ctx.Err())
		}
		if p.set != nil {
			p.set.Sample(s.rng.Rand, x)
		} else {
			p.prep.render(x, p.data.image(s.nextIndex(p.data.Count, p.p.Sampling)))
		}
		write(out, i*d, x, eps, s.rng)
	}
	return out, nil
}

// write stores x + eps*Q at out[off:], Q ~ N(0, I) drawn from rng (no draws
// when eps is 0).
func write(out *sdk.Tensor, off int, x []float64, eps float64, rng *sdk.Stream) {
	if eps != 0 {
		for k := range x {
			x[k] += eps * rng.NormFloat64()
		}
	}
	if out.DType == sdk.Float64 {
		copy(out.F64[off:], x)
		return
	}
	dst := out.F32[off : off+len(x)]
	for k, v := range x {
		dst[k] = float32(v)
	}
}
