package mnist

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// roundTrip draws on a few streams, saves, draws more, then checks that a
// fresh plugin loaded from the saved state draws exactly the same.
func roundTrip(t *testing.T, attrs map[string]any, batches []int) {
	t.Helper()
	ctx := context.Background()
	a := configured(t, 9, attrs)
	for i, n := range batches {
		next(t, a, sdk.NextRequest{N: n})
		next(t, a, sdk.NextRequest{N: n + i, Stream: "sampler:neg"})
	}
	st, err := a.SaveState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := configured(t, 9, attrs)
	if err := b.LoadState(ctx, st); err != nil {
		t.Fatal(err)
	}
	for _, req := range []sdk.NextRequest{{N: 13}, {N: 7, Stream: "sampler:neg"}, {N: 30}, {N: 3, Stream: "new"}, {N: 25}} {
		x, y := next(t, a, req), next(t, b, req)
		if !slices.Equal(x.F32, y.F32) {
			t.Fatalf("%v: after LoadState %+v differs", attrs, req)
		}
	}
}

func TestStateToy(t *testing.T) {
	roundTrip(t, map[string]any{"dataset": "rings", "data_noise": 0.01}, []int{5, 9})
	roundTrip(t, map[string]any{"dataset": "gmm"}, []int{1})
}

func TestStateMNIST(t *testing.T) {
	needMNIST(t)
	// 25 images in epoch order: the saves fall inside the second and third
	// epochs, and the draws after them cross epoch boundaries.
	roundTrip(t, map[string]any{"subset": 25, "sampling": "epoch", "data_noise": 0.02}, []int{20, 12})
	roundTrip(t, map[string]any{"subset": 25, "sampling": "epoch"}, []int{25})
	roundTrip(t, map[string]any{"digits": []int{7}, "data_noise": 0.03}, []int{17})
}

func TestStateMismatch(t *testing.T) {
	ctx := context.Background()
	a := configured(t, 1, map[string]any{"dataset": "gmm"})
	next(t, a, sdk.NextRequest{N: 3})
	st, err := a.SaveState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := configured(t, 1, map[string]any{"dataset": "rings"})
	if err := b.LoadState(ctx, st); err == nil || !strings.Contains(err.Error(), `saved for "gmm"`) {
		t.Fatalf("loading a gmm state into rings: %v", err)
	}
	if err := b.LoadState(ctx, &sdk.State{Meta: []byte("{")}); err == nil {
		t.Fatal("corrupt state accepted")
	}
	if err := b.LoadState(ctx, nil); err == nil {
		t.Fatal("nil state accepted")
	}
}
