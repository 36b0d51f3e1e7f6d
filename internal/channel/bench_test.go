//go:build linux

package channel

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ebmflow/ebmflow/internal/wire"
)

// BenchmarkCall measures one round trip through a channel whose two ends
// are in this process (two goroutines, two threads): the channel's own
// cost, without a plugin process or gRPC. The handler doubles the tensor.
// MB/s counts the tensor bytes sent and received.
func BenchmarkCall(b *testing.B) {
	for _, n := range []int{200, 102400} {
		b.Run(fmt.Sprintf("floats%d", n), func(b *testing.B) {
			_, c := pairB(b, echo)
			x := ramp(n)
			ts := []wire.Named{{Name: "x", Tensor: x}}
			b.SetBytes(int64(8 * n))
			ctx := context.Background()
			for b.Loop() {
				a, err := c.Call(ctx, time.Time{}, "double", nil, ts)
				if err != nil {
					b.Fatal(err)
				}
				if a.Code != 0 {
					b.Fatal(a.Err())
				}
			}
		})
	}
}
