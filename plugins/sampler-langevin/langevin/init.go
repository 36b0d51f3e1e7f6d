package langevin

import (
	"context"
	"fmt"

	"github.com/ebmflow/ebmflow/sdk"
)

// initial returns a fresh [n, shape...] tensor holding the chains' initial
// state. For a persistent init it also returns the bank indices drawn and how
// many of them were re-initialised from noise.
//
// rng is the consumer's stream and consumer its name ("" for the training
// loop). A named consumer reads the bank without creating it: before the
// training loop's first persistent draw its chains start from the noise the
// bank would be filled with, drawn from its own stream.
func (s *Plugin) initial(ctx context.Context, rng *sdk.Stream, consumer string, n int, init string, start *sdk.Tensor) (x *sdk.Tensor, idx []int, reinits int, err error) {
	shape := append([]int{n}, s.p.Shape...)
	x = sdk.NewTensor(s.p.DType, shape...)
	switch init {
	case "start":
		if !equalShape(start.SampleShape(), s.p.Shape) {
			return nil, nil, 0, fmt.Errorf("start: %w: expected chains of shape %s, received %s", sdk.ErrShape,
				sdk.FormatShape(s.p.Shape), sdk.FormatShape(start.Shape))
		}
		convertInto(x, start)
	case InitUniform:
		s.uniformFill(rng, x, 0, x.Len())
	case InitGaussian:
		for i := 0; i < x.Len(); i++ {
			x.Set(i, s.p.InitScale*rng.NormFloat64())
		}
	case InitData:
		name := "sampler:" + s.stage
		if consumer != "" {
			name += ":" + consumer
		}
		pos, err := s.data.Next(ctx, sdk.NextRequest{N: n, Stream: name})
		if err != nil {
			return nil, nil, 0, fmt.Errorf("data stage: %w", err)
		}
		if err := pos.Validate(); err != nil {
			return nil, nil, 0, fmt.Errorf("data stage: %w", err)
		}
		if !equalShape(pos.Shape, shape) {
			return nil, nil, 0, fmt.Errorf("data stage: %w: expected %s, received %s", sdk.ErrShape,
				sdk.FormatShape(shape), sdk.FormatShape(pos.Shape))
		}
		convertInto(x, pos)
	case InitPersistent:
		if consumer != "" && s.bank == nil {
			s.uniformFill(rng, x, 0, x.Len())
			break
		}
		idx, reinits = s.drawBank(rng, x)
	default:
		return nil, nil, 0, fmt.Errorf("unknown init %q", init)
	}
	return x, idx, reinits, nil
}

// uniformFill sets elements [lo, hi) of t to independent draws from the
// uniform distribution on [-init_scale, init_scale], drawn from rng.
func (s *Plugin) uniformFill(rng *sdk.Stream, t *sdk.Tensor, lo, hi int) {
	a := s.p.InitScale
	for i := lo; i < hi; i++ {
		t.Set(i, a*(2*rng.Float64()-1))
	}
}

// convertInto copies src into dst (same number of elements), converting the
// dtype if needed.
func convertInto(dst, src *sdk.Tensor) {
	switch {
	case dst.DType == src.DType && dst.DType == sdk.Float32:
		copy(dst.F32, src.F32)
	case dst.DType == src.DType:
		copy(dst.F64, src.F64)
	default:
		for i := 0; i < dst.Len(); i++ {
			dst.Set(i, src.At(i))
		}
	}
}
