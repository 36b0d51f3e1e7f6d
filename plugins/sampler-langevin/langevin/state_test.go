package langevin

import (
	"context"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// stateCases are configurations exercising every random draw: noise init,
// persistent bank with re-initialisation, MALA.
var stateCases = map[string]map[string]any{
	"uniform":    {"epsilon": 0.05, "steps": 4, "batch": 6},
	"persistent": {"epsilon": 0.05, "steps": 4, "batch": 6, "init": "persistent", "bank_size": 9, "reinit_prob": 0.3},
	"mala":       {"epsilon": 0.05, "steps": 4, "batch": 6, "init": "gaussian", "mala": true, "dtype": "float64"},
}

func sameTensor(a, b *sdk.Tensor) bool {
	if a.DType != b.DType || !equalShape(a.Shape, b.Shape) || a.Len() != b.Len() {
		return false
	}
	for i := 0; i < a.Len(); i++ {
		// Bit-identical: compare as float64 without tolerance; NaN never occurs here.
		if a.At(i) != b.At(i) {
			return false
		}
	}
	return true
}

func sampleN(t *testing.T, s *Plugin, k int) []*sdk.SampleResult {
	t.Helper()
	var out []*sdk.SampleResult
	for i := 0; i < k; i++ {
		res, err := s.Sample(context.Background(), sdk.SampleRequest{})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res)
	}
	return out
}

func sameResults(t *testing.T, what string, a, b []*sdk.SampleResult) {
	t.Helper()
	for i := range a {
		if !sameTensor(a[i].X, b[i].X) || a[i].R != b[i].R || a[i].AcceptRate != b[i].AcceptRate {
			t.Fatalf("%s: call %d differs", what, i+1)
		}
	}
}

// TestSameSeedSameSamples checks that two samplers with the same seed give
// bit-identical samples and that another seed gives different ones.
func TestSameSeedSameSamples(t *testing.T) {
	for name, vals := range stateCases {
		t.Run(name, func(t *testing.T) {
			mk := func(seed uint64) *Plugin {
				return configured(t, config(t, seed, vals, []int{2, 2}, quad(0.4, []float64{1, 0, -1, 0}, nil), nil))
			}
			a, b, c := sampleN(t, mk(8), 3), sampleN(t, mk(8), 3), sampleN(t, mk(9), 1)
			sameResults(t, "same seed", a, b)
			if sameTensor(a[0].X, c[0].X) {
				t.Fatalf("seeds 8 and 9 gave the same samples")
			}
		})
	}
}

// TestSaveLoadContinues checks that a sampler restored from SaveState, even
// one configured with another seed, continues bit for bit.
func TestSaveLoadContinues(t *testing.T) {
	for name, vals := range stateCases {
		t.Run(name, func(t *testing.T) {
			energy := quad(0.4, []float64{1, 0, -1, 0}, nil)
			orig := configured(t, config(t, 8, vals, []int{2, 2}, energy, nil))
			sampleN(t, orig, 2)
			st, err := orig.SaveState(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			want := sampleN(t, orig, 3)

			restored := configured(t, config(t, 1234, vals, []int{2, 2}, energy, nil))
			if err := restored.LoadState(context.Background(), st); err != nil {
				t.Fatal(err)
			}
			sameResults(t, "after load", want, sampleN(t, restored, 3))
			if orig.Stats() != restored.Stats() {
				t.Errorf("stats after load %+v, original %+v", restored.Stats(), orig.Stats())
			}
			// The saved bank is a copy: sampling after SaveState must not change it.
			if b := st.Tensors["bank"]; b != nil && sameTensor(b, orig.bank) {
				t.Errorf("saved bank aliases the live bank")
			}
		})
	}
}

// TestLoadStateRejectsMismatch checks that a state from another sample shape
// or bank size is refused.
func TestLoadStateRejectsMismatch(t *testing.T) {
	vals := stateCases["persistent"]
	energy := quad(0.4, []float64{0, 0, 0, 0}, nil)
	orig := configured(t, config(t, 8, vals, []int{2, 2}, energy, nil))
	sampleN(t, orig, 1)
	st, err := orig.SaveState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	other := configured(t, config(t, 8, vals, []int{4}, energy, nil))
	if err := other.LoadState(context.Background(), st); err == nil {
		t.Errorf("state of [2 2] chains loaded into a [4] sampler")
	}
	delete(st.Tensors, "bank")
	if err := configured(t, config(t, 8, vals, []int{2, 2}, energy, nil)).LoadState(context.Background(), st); err == nil {
		t.Errorf("state without its bank tensor loaded")
	}
}
