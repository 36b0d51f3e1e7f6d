package langevin

import (
	"context"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// TestConsumerStreamsLeaveTrainingAlone: a named consumer sampling between
// the training loop's calls (before and after the bank exists, with and
// without LeaveBank) changes neither the training loop's samples nor the
// bank, and its own draws continue bit for bit across SaveState/LoadState.
func TestConsumerStreamsLeaveTrainingAlone(t *testing.T) {
	ctx := context.Background()
	q := quad(0.3, []float64{1, -1}, nil)
	vals := map[string]any{"epsilon": 0.1, "steps": 4, "batch": 8, "init": "persistent", "bank_size": 20}
	quiet := configured(t, config(t, 5, vals, []int{2}, q, nil))
	busy := configured(t, config(t, 5, vals, []int{2}, q, nil))
	var diag []*sdk.SampleResult
	for i := 0; i < 6; i++ {
		for _, req := range []sdk.SampleRequest{{N: 20, Stream: "diag:d"}, {N: 5, Stream: "other"}} {
			res, err := busy.Sample(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if req.Stream == "diag:d" {
				diag = append(diag, res)
			}
		}
		a, err := quiet.Sample(ctx, sdk.SampleRequest{T: i + 1})
		if err != nil {
			t.Fatal(err)
		}
		b, err := busy.Sample(ctx, sdk.SampleRequest{T: i + 1})
		if err != nil {
			t.Fatal(err)
		}
		if !sameTensor(a.X, b.X) || a.R != b.R {
			t.Fatalf("training call %d differs when a consumer samples in between", i+1)
		}
		if !sameTensor(quiet.bank, busy.bank) {
			t.Fatalf("bank differs after training call %d", i+1)
		}
	}
	if sameTensor(diag[0].X, diag[1].X) {
		t.Fatal("consumer's successive draws are identical")
	}
	// The consumer's stream is saved: a restored sampler draws the same.
	st, err := busy.SaveState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	again := configured(t, config(t, 5, vals, []int{2}, q, nil))
	if err := again.LoadState(ctx, st); err != nil {
		t.Fatal(err)
	}
	x, _ := busy.Sample(ctx, sdk.SampleRequest{N: 20, Stream: "diag:d"})
	y, _ := again.Sample(ctx, sdk.SampleRequest{N: 20, Stream: "diag:d"})
	if !sameTensor(x.X, y.X) {
		t.Fatal("consumer stream not restored by LoadState")
	}
}
