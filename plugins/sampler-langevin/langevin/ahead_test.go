package langevin

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// TestNoiseAheadSameDraws checks that drawing a step's noise during its
// gradient call (image-sized batches) changes nothing: the samples of a
// successful call, and the stream left by a call refused at step 3 (the
// gradient call failed, or dF/dx was NaN), are those of the plain loop, as
// the next call's samples show bit for bit.
func TestNoiseAheadSameDraws(t *testing.T) {
	const per, batch, steps = 64, 100, 5 // 6,400 values: drawn ahead
	if per*batch < noiseAheadMin {
		t.Fatalf("the batch (%d values) is below noiseAheadMin (%d)", per*batch, noiseAheadMin)
	}
	defer func(v int) { noiseAheadMin = v }(noiseAheadMin)
	run := func(ahead bool, fail string) (string, []float32) {
		noiseAheadMin = 4096
		if !ahead {
			noiseAheadMin = math.MaxInt
		}
		mu := make([]float64, per)
		for j := range mu {
			mu[j] = 0.01 * float64(j)
		}
		q := quad(0.5, mu, func(call int, x, f, g *sdk.Tensor) error {
			if call != 3 {
				return nil
			}
			switch fail {
			case "error":
				return errors.New("connection reset")
			case "nan":
				g.Set(7, math.NaN())
			}
			return nil
		})
		s := configured(t, config(t, 9, map[string]any{"epsilon": 0.1, "steps": steps, "batch": batch}, []int{per}, q, nil))
		first, err := s.Sample(context.Background(), sdk.SampleRequest{})
		msg := fmt.Sprint(err)
		if err == nil {
			msg = fmt.Sprint(first.X.F32[:3])
		}
		next, err := s.Sample(context.Background(), sdk.SampleRequest{})
		if err != nil {
			t.Fatalf("ahead=%v fail=%q: second call: %v", ahead, fail, err)
		}
		return msg, next.X.F32
	}
	for _, fail := range []string{"", "error", "nan"} {
		m1, x1 := run(false, fail)
		m2, x2 := run(true, fail)
		if m1 != m2 {
			t.Errorf("fail=%q: first call %q, with the noise drawn ahead %q", fail, m1, m2)
		}
		for i := range x1 {
			if math.Float32bits(x1[i]) != math.Float32bits(x2[i]) {
				t.Errorf("fail=%q: next call's samples differ at %d: %v against %v", fail, i, x2[i], x1[i])
				break
			}
		}
	}
}
