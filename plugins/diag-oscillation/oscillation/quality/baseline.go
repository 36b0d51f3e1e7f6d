package quality

import (
	"context"
	"fmt"
	"math"

	"github.com/ebmflow/ebmflow/sdk"
)

// FloorReps is the number of held-out sets behind the noise floor.
const FloorReps = 4

// Nexter draws examples from a data stage (sdk.DataLink and the host's
// stage handles have it).
type Nexter interface {
	Next(ctx context.Context, req sdk.NextRequest) (*sdk.Tensor, error)
}

// Baseline is what samples are measured against: the reference set of
// held-out examples, the noise floor of MMD2_u for sample sets of M points,
// and the reference set's own saturation.
type Baseline struct {
	Ref *Reference
	// M is the size of the sample sets the floor is for, Reps the number of
	// held-out sets of M points it averages over.
	M, Reps int
	// Floor and FloorSD are the mean and standard deviation of
	// MMD2_u(B_r, A) over the Reps held-out sets B_r.
	Floor, FloorSD float64
	// Data is the saturation of the reference set.
	Data Sat
}

// NewBaseline asks data for nRef + reps*m held-out examples (Split test,
// no noise) on stream, in one request: the first nRef are the reference
// set, the next reps sets of m the floor's. The data stage serves
// held-out examples without repetition within a request, so the sets are
// disjoint, and idempotently, so the same call gives the same baseline.
func NewBaseline(ctx context.Context, data Nexter, stream string, nRef, m, reps int) (*Baseline, error) {
	if nRef < 2 || m < 2 || reps < 2 {
		return nil, fmt.Errorf("%w: reference of %d, floor sets of %d, %d floor sets (want 2 or more of each)", ErrSize, nRef, m, reps)
	}
	n := nRef + reps*m
	x, err := data.Next(ctx, sdk.NextRequest{N: n, Stream: stream, Split: sdk.SplitTest, NoiseSet: true})
	if err != nil {
		return nil, fmt.Errorf("held-out examples: %w", err)
	}
	if x.Batch() != n {
		return nil, fmt.Errorf("held-out examples: %w: %d rows, asked for %d", sdk.ErrShape, x.Batch(), n)
	}
	all, err := NewSet(x)
	if err != nil {
		return nil, fmt.Errorf("held-out examples: %w", err)
	}
	ref, err := NewReference(all.Slice(0, nRef))
	if err != nil {
		return nil, fmt.Errorf("held-out reference: %w", err)
	}
	b := &Baseline{Ref: ref, M: m, Reps: reps, Data: SaturationOf(ref.A.X)}
	v := make([]float64, reps)
	for r := range v {
		lo := nRef + r*m
		if v[r], err = ref.MMD2(all.Slice(lo, lo+m)); err != nil {
			return nil, fmt.Errorf("noise floor: %w", err)
		}
		b.Floor += v[r]
	}
	b.Floor /= float64(reps)
	for _, e := range v {
		b.FloorSD += (e - b.Floor) * (e - b.Floor)
	}
	b.FloorSD = math.Sqrt(b.FloorSD / float64(reps-1))
	return b, nil
}

// Result is one measurement of a set of samples.
type Result struct {
	// MMD2 is MMD2_u(samples, reference); HasMMD is false when it could
	// not be computed (non-finite samples).
	MMD2   float64 `json:"mmd2"`
	HasMMD bool    `json:"has_mmd"`
	Sat    Sat     `json:"sat"`
}

// Evaluate measures the samples x (shape [n, ...] with the reference's
// dimension, n >= 2). The saturation is always computed; when MMD2_u cannot
// be (a non-finite value, a wrong shape) the error says why and the result
// still holds the saturation.
func (b *Baseline) Evaluate(x *sdk.Tensor) (Result, error) {
	if err := x.Validate(); err != nil {
		return Result{}, fmt.Errorf("samples: %w", err)
	}
	res := Result{Sat: Saturation(x)}
	s, err := NewSet(x)
	if err != nil {
		return res, fmt.Errorf("samples: %w", err)
	}
	if res.MMD2, err = b.Ref.MMD2(s); err != nil {
		return res, fmt.Errorf("samples: %w", err)
	}
	res.HasMMD = true
	return res, nil
}
