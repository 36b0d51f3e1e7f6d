package mnist

import (
	"context"
	"math"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// The expected values below were computed independently with a python3
// script (gzip + struct) from the module's files.
const (
	firstTrainSum = 27525 // sum of the bytes of training image 0 (a 5)
	firstTestSum  = 18454 // sum of the bytes of test image 0 (a 7)
	trainZeros    = 5923  // training images labelled 0
	testOnes      = 1135  // test images labelled 1
)

func TestRealFiles(t *testing.T) {
	needMNIST(t)
	src := &source{CacheDir: testCache}
	for _, c := range []struct {
		split      string
		count, sum int
		label0     byte
	}{{"train", 60000, firstTrainSum, 5}, {"test", 10000, firstTestSum, 7}} {
		im, err := loadSplit(context.Background(), src, c.split, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		if im.Count != c.count || len(im.Pixels) != c.count*Native*Native {
			t.Fatalf("%s: %d images (%d bytes), want %d of 28x28", c.split, im.Count, len(im.Pixels), c.count)
		}
		sum := 0
		for _, v := range im.image(0) {
			sum += int(v)
		}
		if sum != c.sum || im.Labels[0] != c.label0 {
			t.Errorf("%s: first image sums to %d with label %d, want %d and %d", c.split, sum, im.Labels[0], c.sum, c.label0)
		}
	}
}

func TestDigitFilterAndSubset(t *testing.T) {
	needMNIST(t)
	ctx := context.Background()
	for _, c := range []struct {
		attrs map[string]any
		size  int
	}{
		{map[string]any{"digits": []int{0}}, trainZeros},
		{map[string]any{"digits": []int{1}, "split": "test"}, testOnes},
		{map[string]any{"digits": []int{3, 8}, "subset": 123}, 123},
		{map[string]any{"subset": 1000}, 1000},
		{map[string]any{"subset": 100000}, 60000},
	} {
		p := configured(t, 1, c.attrs)
		info, err := p.Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.Size != c.size || info.HasDensity || len(info.Box) != 0 {
			t.Errorf("%v: %+v, want size %d without density", c.attrs, info, c.size)
		}
		if d := c.attrs["digits"]; d != nil {
			for i, l := range p.data.Labels {
				if l != byte(d.([]int)[0]) && (len(d.([]int)) < 2 || l != byte(d.([]int)[1])) {
					t.Fatalf("%v: image %d has label %d", c.attrs, i, l)
				}
			}
		}
	}
}

// TestFirstImageValues checks the preprocessed first image: at size 28 the
// values are v/255*2 - 1, so they sum to 2*27525/255 - 784; padding adds
// 1024 - 784 values of -1.
func TestFirstImageValues(t *testing.T) {
	needMNIST(t)
	p := configured(t, 1, map[string]any{"subset": 1, "size": 28, "dtype": "float64"})
	x := next(t, p, sdk.NextRequest{N: 2})
	want := 2*float64(firstTrainSum)/255 - 784
	for i := range 2 {
		var s float64
		for _, v := range x.F64[i*784 : (i+1)*784] {
			s += v
		}
		if math.Abs(s-want) > 1e-9 {
			t.Fatalf("sample %d sums to %v, want %v", i, s, want)
		}
	}
	p = configured(t, 1, map[string]any{"subset": 1, "resize": "pad", "dtype": "float64"})
	x = next(t, p, sdk.NextRequest{N: 1})
	var s float64
	for _, v := range x.F64 {
		s += v
	}
	if want -= 1024 - 784; math.Abs(s-want) > 1e-9 {
		t.Fatalf("padded image sums to %v, want %v", s, want)
	}
}
