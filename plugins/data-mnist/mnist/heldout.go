package mnist

import (
	"context"
	"fmt"
	"math"

	"github.com/ebmflow/ebmflow/sdk"
)

// heldOut serves a NextRequest with Split set: req.N images of the split
// the stage does not train on (the test split, t10k; the training split
// for a stage with split = "test"), after the stage's digit filter but not
// its subset, rendered like the training images (size, resize, [-1, 1]),
// with req.Noise added when NoiseSet (else data_noise). The images are the
// first req.N of a permutation drawn afresh from the stream
// "heldout/STREAM" of the stage's seed, so the answer depends only on the
// seed, the stream name and N: the same request gives the same images, a
// larger N extends a smaller one's, and disjoint slices of one answer are
// disjoint sets of images. Nothing is advanced or saved. The split's files
// are read (and SHA-256 checked) on the first such request.
func (p *Plugin) heldOut(ctx context.Context, req sdk.NextRequest) (*sdk.Tensor, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.ready {
		return nil, errNotConfigured
	}
	if req.Split != sdk.SplitTest {
		return nil, fmt.Errorf("data-mnist: next: split %q, want %q (held-out examples) or none", req.Split, sdk.SplitTest)
	}
	if p.set != nil {
		return nil, fmt.Errorf("data-mnist: next: the toy set %s has no held-out split: %w", p.p.Dataset, sdk.ErrUnsupported)
	}
	if p.test == nil {
		split := "test"
		if p.p.Split == "test" {
			split = "train"
		}
		im, err := loadSplit(ctx, p.src, split, p.p.Digits, 0)
		if err != nil {
			return nil, fmt.Errorf("data-mnist: held-out split: %w", err)
		}
		p.test = im
	}
	n := req.N
	if n <= 0 || n > p.test.Count {
		return nil, fmt.Errorf("data-mnist: next: %d held-out images asked for, the held-out split (%s) has %d", n, p.test.File, p.test.Count)
	}
	eps := p.p.DataNoise
	if req.NoiseSet && req.Noise >= 0 {
		eps = req.Noise
	}
	if math.IsNaN(eps) || math.IsInf(eps, 0) {
		return nil, fmt.Errorf("data-mnist: next: noise sd %v is not finite", eps)
	}
	perm := permute(sdk.NewStream(p.seed, "heldout/"+req.Stream), p.test.Count, nil)
	noise := sdk.NewStream(p.seed, "heldout/"+req.Stream+"/noise")
	shape := append([]int{n}, p.p.sampleShape()...)
	out := sdk.NewTensor(p.p.DType, shape...)
	d := sdk.NumElements(shape[1:])
	x := make([]float64, d)
	for i := range n {
		if i%256 == 0 && ctx.Err() != nil {
			return nil, fmt.Errorf("data-mnist: next: %w", ctx.Err())
		}
		p.prep.render(x, p.test.image(int(perm[i])))
		write(out, i*d, x, eps, noise)
	}
	return out, nil
}
