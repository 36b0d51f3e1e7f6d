package quadratic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/ebmflow/ebmflow/sdk"
)

// Update is a learning step that leaves mu unchanged. It returns
// d_st = (2/eps^2)(mean F(x+) - mean F(x-)), the mean energies and
// GradNorm = |d/dmu (mean F(x+) - mean F(x-))| = |a (mean x- - mean x+)|.
func (q *Quadratic) Update(ctx context.Context, req sdk.UpdateRequest) (sdk.UpdateResult, error) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if err := q.check(req.Pos); err != nil {
		return sdk.UpdateResult{}, fmt.Errorf("update: positives: %w", err)
	}
	if err := q.check(req.Neg); err != nil {
		return sdk.UpdateResult{}, fmt.Errorf("update: negatives: %w", err)
	}
	if req.Pos.Batch() == 0 || req.Neg.Batch() == 0 {
		return sdk.UpdateResult{}, fmt.Errorf("update: %w: empty batch", sdk.ErrShape)
	}
	meanPos, sumPos := q.stats(req.Pos)
	meanNeg, sumNeg := q.stats(req.Neg)
	var gn float64
	for j := range q.center {
		gj := q.a * (sumNeg[j]/float64(req.Neg.Batch()) - sumPos[j]/float64(req.Pos.Batch()))
		gn += gj * gj
	}
	res := sdk.UpdateResult{
		DST:      2 / (q.eps * q.eps) * (meanPos - meanNeg),
		MeanPos:  meanPos,
		MeanNeg:  meanNeg,
		GradNorm: math.Sqrt(gn),
	}
	if math.IsNaN(res.DST) || math.IsInf(res.DST, 0) {
		return sdk.UpdateResult{}, fmt.Errorf("update %d: d_st: %w", req.T, sdk.ErrNonFinite)
	}
	return res, nil
}

// stats returns the mean energy of a batch and the per-element sums of x.
func (q *Quadratic) stats(x *sdk.Tensor) (meanF float64, sum []float64) {
	f := sdk.NewTensor(sdk.Float64, x.Batch())
	q.eval(x, f, nil)
	for _, v := range f.F64 {
		meanF += v
	}
	d := len(q.center)
	sum = make([]float64, d)
	for i := 0; i < x.Len(); i++ {
		sum[i%d] += x.At(i)
	}
	return meanF / float64(x.Batch()), sum
}

// meta is the JSON saved in sdk.State.Meta.
type meta struct {
	A float64 `json:"a"`
}

// SaveState saves mu as the float64 tensor "mu" (of the sample shape) and a
// in Meta.
func (q *Quadratic) SaveState(ctx context.Context) (*sdk.State, error) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if !q.configured {
		return nil, errors.New("save state: energy not configured")
	}
	b, err := json.Marshal(meta{A: q.a})
	if err != nil {
		return nil, fmt.Errorf("save state: %w", err)
	}
	mu := sdk.FromFloat64(append([]float64(nil), q.center...), q.shape...)
	return &sdk.State{Meta: b, Tensors: map[string]*sdk.Tensor{"mu": mu}}, nil
}

// LoadState restores mu and a.
func (q *Quadratic) LoadState(ctx context.Context, st *sdk.State) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.configured {
		return errors.New("load state: energy not configured")
	}
	var m meta
	if err := json.Unmarshal(st.Meta, &m); err != nil {
		return fmt.Errorf("load state: meta: %w", err)
	}
	mu, ok := st.Tensors["mu"]
	if !ok {
		return errors.New("load state: tensor \"mu\" missing")
	}
	if err := mu.Expect(sdk.Float64, q.shape...); err != nil {
		return fmt.Errorf("load state: mu: %w", err)
	}
	if !(m.A > 0) {
		return fmt.Errorf("load state: invalid a %v", m.A)
	}
	q.a = m.A
	q.center = append([]float64(nil), mu.F64...)
	return nil
}
