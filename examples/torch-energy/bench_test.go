package torchenergy_test

import (
	"context"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ebmflow/ebmflow/sdk"
	"github.com/ebmflow/ebmflow/sdk/plugintest"
)

// computeScript times PyTorch's own work for one Grad call, in process: the
// net's forward pass and dF/dx by autograd on a batch already in a torch
// tensor. It prints the median of its calls in seconds.
const computeScript = `import sys, json, time
sys.path[:0] = [".", "../../sdk/python"]
import torch
from ebmflow_plugin import build_config
from torch_energy.plugin import TorchEnergy
p = TorchEnergy()
cfg, d = build_config(p.schema, "e", 1, "", sys.argv[1], {})
p.configure(cfg, d)
x = torch.rand([int(sys.argv[2])] + p.net.input) * 2 - 1
ts = []
for i in range(int(sys.argv[3]) + 3):
    t = time.perf_counter()
    xt = x.clone().requires_grad_(True)
    f = p.net.forward(xt)
    (g,) = torch.autograd.grad(f.sum(), xt)
    ts.append(time.perf_counter() - t)
ts = sorted(ts[3:])
print(ts[len(ts) // 2])`

// BenchmarkBoundary measures what crossing the process boundary adds to a
// Grad call of torch-energy at batch 100 on the CPU: the call as ebmflow
// makes it (host to plugin through the shared-memory channel; the
// sampler's calls take the same path) against PyTorch's compute for it in
// process, alternating the two within each iteration so that both see the
// same load. It reports the medians (ms-call, ms-compute) and
// boundary-%, (call - compute) / compute. Run with a fixed count:
//
//	go test -run '^$' -bench Boundary -benchtime 5x ./examples/torch-energy
func BenchmarkBoundary(b *testing.B) {
	needTorch(b)
	for _, c := range []struct {
		name  string
		cfg   map[string]any
		calls int
	}{
		{"vanilla32-nf32-n100", map[string]any{"net": "vanilla", "n_f": 32, "epsilon": 0.0075}, 20},
		{"toy-n100", map[string]any{"net": "toy", "epsilon": 0.125}, 500},
	} {
		b.Run(c.name, func(b *testing.B) {
			os.Setenv("MALLOC_MMAP_THRESHOLD_", "33554432") // as the plugin sets for itself
			os.Setenv("MALLOC_TRIM_THRESHOLD_", "17179869184")
			p := plugintest.Start(b, plugintest.Suite{Package: plugintest.Executable(entry), Kind: sdk.KindEnergy, Config: c.cfg, CallTimeout: 10 * time.Minute})
			x := batch("bench", sdk.Float32, 100, p.Shapes["input"])
			cfg := `{"net": "` + c.cfg["net"].(string) + `", "epsilon": 0.1}`
			var call, compute []float64
			for range 3 {
				p.Grad(context.Background(), x)
			}
			b.ResetTimer()
			for range b.N {
				out, err := exec.Command(python, "-c", computeScript, cfg, "100", strconv.Itoa(c.calls)).Output()
				if err != nil {
					b.Fatal(err)
				}
				s, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
				if err != nil {
					b.Fatal(err)
				}
				compute = append(compute, s)
				ts := make([]float64, c.calls)
				for i := range ts {
					t0 := time.Now()
					if _, _, err := p.Grad(context.Background(), x); err != nil {
						b.Fatal(err)
					}
					ts[i] = time.Since(t0).Seconds()
				}
				call = append(call, median(ts))
			}
			mc, mp := median(call), median(compute)
			b.ReportMetric(mc*1e3, "ms-call")
			b.ReportMetric(mp*1e3, "ms-compute")
			b.ReportMetric(100*(mc-mp)/mp, "boundary-%")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}
