package mnist

import (
	"bytes"
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// splitImages maps each image of a real split (its 784 bytes) to its label.
func splitImages(t *testing.T, split string) map[string]byte {
	t.Helper()
	im, err := loadSplit(context.Background(), &source{CacheDir: testCache}, split, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string]byte, im.Count)
	for i := range im.Count {
		m[string(im.image(i))] = im.Labels[i]
	}
	return m
}

// rowBytes turns row i of a size-28 batch back into pixel bytes
// (v = b/255*2 - 1).
func rowBytes(x *sdk.Tensor, i int) string {
	const d = Native * Native
	b := make([]byte, d)
	for k := range d {
		b[k] = byte(math.Round((x.At(i*d+k) + 1) * 255 / 2))
	}
	return string(b)
}

// TestHeldOutRealFiles: a request with Split test gets real t10k images
// (never training images), without repetition, after the digit filter and
// not the subset; the same request gives the same images, a larger one
// extends it, and the training stream is untouched.
func TestHeldOutRealFiles(t *testing.T) {
	needMNIST(t)
	ctx := context.Background()
	test, train := splitImages(t, "test"), splitImages(t, "train")
	p := configured(t, 4, map[string]any{"size": 28, "subset": 100, "data_noise": 0.1, "digits": []int{1, 7}})
	q := configured(t, 4, map[string]any{"size": 28, "subset": 100, "data_noise": 0.1, "digits": []int{1, 7}})
	req := sdk.NextRequest{N: 300, Stream: "diag:q", Split: sdk.SplitTest, NoiseSet: true}
	pos := next(t, p, sdk.NextRequest{N: 5, Stream: "positives"})
	x := next(t, p, req)
	if !slices.Equal(x.Shape, []int{300, 1, 28, 28}) {
		t.Fatalf("shape %v", x.Shape)
	}
	seen := map[string]bool{}
	for i := range 300 {
		b := rowBytes(x, i)
		label, ok := test[b]
		if !ok || (label != 1 && label != 7) || seen[b] {
			t.Fatalf("row %d: in the test split %v, label %d, repeated %v", i, ok, label, seen[b])
		}
		if _, ok := train[b]; ok {
			t.Fatalf("row %d is a training image", i)
		}
		seen[b] = true
	}
	// Idempotent and nested, and the training stream goes on as if no
	// held-out draw had been made.
	if y := next(t, p, req); !slices.Equal(y.F32, x.F32) {
		t.Error("the same held-out request gave other images")
	}
	req.N = 400
	if y := next(t, p, req); !slices.Equal(y.F32[:len(x.F32)], x.F32) {
		t.Error("a larger held-out request does not extend the smaller one")
	}
	req.Stream = "other"
	if y := next(t, p, req); slices.Equal(y.F32[:len(x.F32)], x.F32) {
		t.Error("another stream gave the same held-out images")
	}
	pos2 := next(t, p, sdk.NextRequest{N: 5, Stream: "positives"})
	next(t, q, sdk.NextRequest{N: 5, Stream: "positives"})
	if want := next(t, q, sdk.NextRequest{N: 5, Stream: "positives"}); !slices.Equal(pos2.F32, want.F32) || slices.Equal(pos.F32, pos2.F32) {
		t.Error("held-out draws disturbed the training stream")
	}
	sp, _ := p.SaveState(ctx)
	sq, _ := q.SaveState(ctx)
	if !bytes.Equal(sp.Meta, sq.Meta) {
		t.Errorf("held-out draws changed the saved state:\n%s\n%s", sp.Meta, sq.Meta)
	}
	// Data noise as asked; too many images; a stage trained on the test
	// split is served the training split.
	noisy := next(t, p, sdk.NextRequest{N: 300, Stream: "diag:q", Split: sdk.SplitTest})
	if slices.Equal(noisy.F32, x.F32) {
		t.Error("the stage's data noise was not added")
	}
	if _, err := p.Next(ctx, sdk.NextRequest{N: 2500, Split: sdk.SplitTest}); err == nil {
		t.Error("2,500 held-out images of the digits 1 and 7 (2,163 in t10k)")
	}
	r := configured(t, 4, map[string]any{"size": 28, "split": "test"})
	y := next(t, r, sdk.NextRequest{N: 20, Split: sdk.SplitTest, NoiseSet: true})
	for i := range 20 {
		if _, ok := train[rowBytes(y, i)]; !ok {
			t.Fatalf("split = test: held-out row %d is not a training image", i)
		}
	}
	// 32 pixels, bilinear: the same preprocessing as the training images.
	s := configured(t, 4, map[string]any{"size": 32, "resize": "bilinear"})
	z := next(t, s, sdk.NextRequest{N: 10, Split: sdk.SplitTest, NoiseSet: true})
	if !slices.Equal(z.Shape, []int{10, 1, 32, 32}) {
		t.Fatalf("size 32: shape %v", z.Shape)
	}
	for i := range z.Len() {
		if v := z.At(i); v < -1 || v > 1 {
			t.Fatalf("size 32: value %v outside [-1, 1]", v)
		}
	}
}

// TestHeldOutRefused: toy sets have no held-out split; unknown splits are
// errors.
func TestHeldOutRefused(t *testing.T) {
	ctx := context.Background()
	p := configured(t, 1, map[string]any{"dataset": "gmm"})
	if _, err := p.Next(ctx, sdk.NextRequest{N: 5, Split: sdk.SplitTest}); !errors.Is(err, sdk.ErrUnsupported) {
		t.Errorf("toy held-out: %v", err)
	}
	if _, err := p.Next(ctx, sdk.NextRequest{N: 5, Split: "validation"}); err == nil {
		t.Error("split validation accepted")
	}
}
