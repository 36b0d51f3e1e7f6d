//go:build unix

package convnet

import (
	"context"
	"fmt"
	"syscall"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// BenchmarkToy measures the toy MLP's three calls at batch 100 and 1,000
// (float32): Energy and Grad on n samples, and an update on n positives and
// n negatives with SGD and with Adam. It reports samples per second.
func BenchmarkToy(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("Energy/n%d", n), func(b *testing.B) {
			p := configured(b, 1, toy("float32"))
			x := randomBatch(p, n, 2)
			benchToy(b, n, func() error {
				_, err := p.Energy(context.Background(), x)
				return err
			})
		})
		b.Run(fmt.Sprintf("Grad/n%d", n), func(b *testing.B) {
			p := configured(b, 1, toy("float32"))
			x := randomBatch(p, n, 2)
			benchToy(b, n, func() error {
				_, _, err := p.Grad(context.Background(), x)
				return err
			})
		})
		for _, opt := range []string{"sgd", "adam"} {
			b.Run(fmt.Sprintf("Update/%s/n%d", opt, n), func(b *testing.B) {
				a := toy("float32")
				a["optimizer"] = opt
				p := configured(b, 1, a)
				req := sdk.UpdateRequest{Pos: randomBatch(p, n, 2), Neg: randomBatch(p, n, 3), LR: 1e-4}
				benchToy(b, 2*n, func() error {
					_, err := p.Update(context.Background(), req)
					return err
				})
			})
		}
	}
}

// benchToy runs call once untimed (to build what it caches), then b.N
// times, and reports samples/s for n samples per call and the process's
// CPU time per call (user and system, all threads), which, unlike the wall
// time, hardly grows when other processes share the cores.
func benchToy(b *testing.B, n int, call func() error) {
	if err := call(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := call(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime returns the process's user plus system CPU time in nanoseconds.
func cpuTime(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
