// Command defective is a quadratic energy plugin, F(x) = (a/2)|x - mu|^2,
// that breaks one plugin rule on purpose, chosen by $PLUGINTEST_DEFECT, so
// that the harness's own tests can check that each rule is enforced. With
// the variable unset it breaks none.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ebmflow/ebmflow/sdk"
	"github.com/ebmflow/ebmflow/sdk/energy"
)

var defect = os.Getenv("PLUGINTEST_DEFECT")

type quad struct {
	a, mu float64
	big   *sdk.Tensor // state_mib MiB of state, if asked for
}

func (q *quad) Info() sdk.Info {
	return sdk.Info{Name: "defective", Kind: sdk.KindEnergy, Version: "0.1.0", Description: "a quadratic energy that breaks one rule on purpose"}
}

func (q *quad) Schema() sdk.Schema {
	doc := "curvature a > 0 (default 1)"
	if defect == "nodoc" {
		doc = ""
	}
	var bounds sdk.Bounds
	if defect == "bounds" {
		bounds = sdk.Above(0).AtMost(0.5) // the default 1 lies outside
	}
	return sdk.Schema{Attributes: []sdk.Attribute{{Name: "a", Type: sdk.TypeNumber, Default: 1.0, Doc: doc, Bounds: bounds},
		{Name: "state_mib", Type: sdk.TypeInt, Default: 0.0, Bounds: sdk.AtLeast(0).AtMost(4096), Doc: "MiB of float32 tensor the state carries beside mu (default 0)"}}}
}

func (q *quad) Configure(ctx context.Context, cfg *sdk.Config) (sdk.Shapes, sdk.Problems) {
	var diags sdk.Problems
	q.a = cfg.Float("a")
	if n := cfg.Int("state_mib"); n > 0 {
		q.big = sdk.NewTensor(sdk.Float32, n<<18)
		for i := range q.big.F32 {
			q.big.F32[i] = float32(i % 1000)
		}
	}
	if q.a <= 0 {
		path := []string{"a"}
		if defect == "nopath" {
			path = nil
		}
		diags.Errorf(path, "Invalid curvature", "a must be positive, got %g", q.a)
	}
	return sdk.Shapes{"input": {2}}, diags
}

func (q *quad) check(x *sdk.Tensor) error {
	if err := x.Expect(sdk.Float32, -1, 2); err != nil {
		return err
	}
	if defect == "nanpanic" {
		for _, v := range x.F32 {
			if v != v {
				panic("NaN")
			}
		}
	}
	return x.CheckFinite()
}

func (q *quad) Energy(ctx context.Context, x *sdk.Tensor) (*sdk.Tensor, error) {
	f, _, err := q.Grad(ctx, x)
	return f, err
}

func (q *quad) Grad(ctx context.Context, x *sdk.Tensor) (*sdk.Tensor, *sdk.Tensor, error) {
	if err := q.check(x); err != nil {
		return nil, nil, err
	}
	if defect == "stdout" {
		fmt.Println("computing a gradient")
	}
	n := x.Batch()
	f, g := sdk.NewTensor(sdk.Float32, n), sdk.NewTensor(sdk.Float32, n, 2)
	if defect == "shape" {
		g = sdk.NewTensor(sdk.Float32, n)
	}
	for i := range n {
		s := 0.0
		for j := range 2 {
			d := x.At(2*i+j) - q.mu
			s += d * d
			if defect != "shape" {
				g.Set(2*i+j, q.a*d)
			}
		}
		f.Set(i, q.a/2*s)
	}
	return f, g, nil
}

func mean(t *sdk.Tensor) float64 {
	s := 0.0
	for i := range t.Len() {
		s += t.At(i)
	}
	return s / float64(t.Len())
}

func (q *quad) Update(ctx context.Context, req sdk.UpdateRequest) (sdk.UpdateResult, error) {
	g := q.a * 2 * (mean(req.Neg) - mean(req.Pos))
	if defect == "sideeffect" {
		q.mu -= req.LR * g // moves before checking the batches
	}
	if err := q.check(req.Pos); err != nil {
		return sdk.UpdateResult{}, fmt.Errorf("positives: %w", err)
	}
	if err := q.check(req.Neg); err != nil {
		return sdk.UpdateResult{}, fmt.Errorf("negatives: %w", err)
	}
	if defect != "sideeffect" {
		q.mu -= req.LR * g
	}
	if defect == "random" {
		q.mu += float64(time.Now().UnixNano()%1000) * 1e-9
	}
	fp, _, _ := q.Grad(ctx, req.Pos)
	fn, _, _ := q.Grad(ctx, req.Neg)
	return sdk.UpdateResult{DST: 200 * (mean(fp) - mean(fn)), MeanPos: mean(fp), MeanNeg: mean(fn), GradNorm: g}, nil
}

func (q *quad) SaveState(ctx context.Context) (*sdk.State, error) { return sdk.SaveStateVia(ctx, q) }

func (q *quad) LoadState(ctx context.Context, st *sdk.State) error {
	return sdk.LoadStateVia(ctx, q, st)
}

func (q *quad) SaveStateTo(ctx context.Context, w sdk.StateWriter) error {
	b, err := json.Marshal(q.mu)
	if defect == "state" {
		b, err = json.Marshal(0.0)
	}
	if err != nil {
		return err
	}
	w.SetMeta(b)
	if q.big == nil {
		return nil
	}
	if defect == "statecopy" {
		return w.Tensor("big", q.big.Clone()) // a second copy of the state
	}
	return w.Tensor("big", q.big)
}

func (q *quad) LoadStateFrom(ctx context.Context, r sdk.StateReader) error {
	if err := json.Unmarshal(r.Meta(), &q.mu); err != nil {
		return err
	}
	for {
		info, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if info.Name == "big" && q.big != nil {
			if err := r.ReadInto(q.big); err != nil {
				return err
			}
		}
	}
}

func main() { energy.Serve(&quad{}) }
