package safetensors

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// benchTensors returns n float32 values split over four tensors.
func benchTensors(n int) map[string]*sdk.Tensor {
	ts := map[string]*sdk.Tensor{}
	for i := 0; i < 4; i++ {
		x := sdk.NewTensor(sdk.Float32, n/4)
		for j := range x.F32 {
			x.F32[j] = float32(j) * 0.5
		}
		ts[fmt.Sprintf("layer%d.weight", i)] = x
	}
	return ts
}

func BenchmarkWrite(b *testing.B) {
	for _, n := range []int{1 << 10, 1 << 16, 1 << 20} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			ts := benchTensors(n)
			var buf bytes.Buffer
			b.SetBytes(int64(4 * n))
			for b.Loop() {
				buf.Reset()
				if err := Write(&buf, ts, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRead(b *testing.B) {
	for _, n := range []int{1 << 10, 1 << 16, 1 << 20} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var buf bytes.Buffer
			if err := Write(&buf, benchTensors(n), nil); err != nil {
				b.Fatal(err)
			}
			in := buf.Bytes()
			b.SetBytes(int64(4 * n))
			for b.Loop() {
				if _, _, err := Read(bytes.NewReader(in), int64(len(in))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
