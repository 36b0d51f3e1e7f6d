package langevin

import (
	"context"
	"math"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// TestBankDrawsAndWriteBack checks that a persistent batch holds no bank
// index twice, that its final states are written back to those indices, that
// LeaveBank leaves the bank untouched, and that over many draws every chain
// gets drawn.
func TestBankDrawsAndWriteBack(t *testing.T) {
	const bankSize, batch = 50, 40
	q := quad(0.3, []float64{2, 2}, nil)
	s := configured(t, config(t, 3, map[string]any{
		"epsilon": 0.1, "steps": 3, "batch": batch, "init": "persistent", "bank_size": bankSize,
	}, []int{2}, q, nil))
	ctx := context.Background()
	seen := make([]bool, bankSize)
	for call := 0; call < 20; call++ {
		res, err := s.Sample(ctx, sdk.SampleRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if len(s.lastIdx) != batch {
			t.Fatalf("call %d drew %d chains, want %d", call, len(s.lastIdx), batch)
		}
		dup := map[int]bool{}
		for i, k := range s.lastIdx {
			if k < 0 || k >= bankSize || dup[k] {
				t.Fatalf("call %d: index %d out of range or drawn twice in %v", call, k, s.lastIdx)
			}
			dup[k] = true
			seen[k] = true
			for j := 0; j < 2; j++ {
				if s.bank.F32[k*2+j] != res.X.F32[i*2+j] {
					t.Fatalf("call %d: bank chain %d not written back from row %d", call, k, i)
				}
			}
		}
	}
	for k, ok := range seen {
		if !ok {
			t.Errorf("bank chain %d never drawn in 20 batches of %d from %d", k, batch, bankSize)
		}
	}
	before := s.bank.Clone()
	if _, err := s.Sample(ctx, sdk.SampleRequest{LeaveBank: true}); err != nil {
		t.Fatal(err)
	}
	for i := range before.F32 {
		if before.F32[i] != s.bank.F32[i] {
			t.Fatalf("LeaveBank changed bank element %d", i)
		}
	}
	if st := s.Stats(); st.Draws != 21*batch || st.Calls != 21 || st.Steps != 63 {
		t.Errorf("stats %+v, want 840 draws, 21 calls, 63 steps", st)
	}
	if _, err := s.Sample(ctx, sdk.SampleRequest{N: bankSize + 1}); err == nil {
		t.Errorf("drawing %d chains from a bank of %d: no error", bankSize+1, bankSize)
	}
}

// TestBankReinitFraction checks that drawn chains are re-initialised from
// uniform noise with probability reinit_prob. With bank_size = batch every
// call draws every chain; a = 1 sends each chain to mu + eps*z = 10 +- 0.05
// in one step, so after the first call a chain that starts a step inside the
// noise box [-1, 1] was re-initialised. Over the draws of calls 2..K the count
// is Binomial(draws, p): the tolerance is 5 standard deviations.
func TestBankReinitFraction(t *testing.T) {
	const p, bankSize, calls = 0.2, 500, 21
	reinit := 0
	q := quad(1, []float64{10}, func(call int, x, f, g *sdk.Tensor) error {
		if call == 1 {
			return nil // the first batch starts from the noise-filled bank
		}
		for _, v := range x.F32 {
			if math.Abs(float64(v)) <= 1 {
				reinit++
			}
		}
		return nil
	})
	s := configured(t, config(t, 5, map[string]any{
		"epsilon": 0.01, "steps": 1, "batch": bankSize, "init": "persistent",
		"bank_size": bankSize, "reinit_prob": p,
	}, []int{1}, q, nil))
	ctx := context.Background()
	var first int64
	for call := 1; call <= calls; call++ {
		if _, err := s.Sample(ctx, sdk.SampleRequest{}); err != nil {
			t.Fatal(err)
		}
		if call == 1 {
			first = s.Stats().Reinits
		}
	}
	draws := float64((calls - 1) * bankSize)
	counted := s.Stats().Reinits - first
	if int64(reinit) != counted {
		t.Errorf("%d chains started from noise, stats count %d re-initialisations", reinit, counted)
	}
	sd := math.Sqrt(draws * p * (1 - p))
	if d := math.Abs(float64(reinit) - p*draws); d > 5*sd {
		t.Errorf("%d re-initialisations in %v draws, want %v +- %.0f", reinit, draws, p*draws, 5*sd)
	}
}
