package torchenergy_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
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

// computeScript times PyTorch's own work for Grad calls, in process: the
// net's forward pass and dF/dx by autograd on a batch already in a torch
// tensor. For each line n it reads, it times n calls and prints their
// seconds on one line.
const computeScript = `import sys, json, time
sys.path[:0] = [".", "../../sdk/python"]
import torch
from ebmflow_plugin import build_config
from torch_energy.plugin import TorchEnergy
p = TorchEnergy()
cfg, d = build_config(p.schema, "e", 1, "", sys.argv[1], {})
p.configure(cfg, d)
x = torch.rand([int(sys.argv[2])] + p.net.input) * 2 - 1
for line in sys.stdin:
    ts = []
    for i in range(int(line)):
        t = time.perf_counter()
        xt = x.clone().requires_grad_(True)
        f = p.net.forward(xt)
        (g,) = torch.autograd.grad(f.sum(), xt)
        ts.append(time.perf_counter() - t)
    print(" ".join(repr(v) for v in ts), flush=True)`

// computer is a process running computeScript.
type computer struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func startComputer(b *testing.B, cfg string) *computer {
	cmd := exec.Command(python, "-c", computeScript, cfg, "100")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	c := &computer{cmd: cmd, in: in, out: bufio.NewReader(out)}
	b.Cleanup(func() { in.Close(); cmd.Wait() })
	return c
}

// times runs n calls in the compute process and returns their seconds.
func (c *computer) times(b *testing.B, n int) []float64 {
	if _, err := fmt.Fprintln(c.in, n); err != nil {
		b.Fatal(err)
	}
	line, err := c.out.ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	var ts []float64
	for _, f := range strings.Fields(line) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			b.Fatal(err)
		}
		ts = append(ts, v)
	}
	return ts
}

// BenchmarkBoundary measures what crossing the process boundary adds to a
// Grad call of torch-energy at batch 100 on the CPU: the call as ebmflow
// makes it (host to plugin through the shared-memory channel; the
// sampler's calls take the same path) against PyTorch's compute for it in
// a process of its own. The two alternate in short blocks (the first calls
// of each block and a pause between blocks left out, while the other
// side's idle threads settle), so that both see the same load on a shared
// machine. It reports the medians (ms-call, ms-compute) and boundary-%,
// (call - compute) / compute. Run with a fixed count:
//
//	go test -run '^$' -bench Boundary -benchtime 5x ./examples/torch-energy
func BenchmarkBoundary(b *testing.B) {
	needTorch(b)
	for _, c := range []struct {
		name          string
		cfg           map[string]any
		blocks, calls int // per iteration; the first 2 calls of a block are left out
	}{
		{"vanilla32-nf32-n100", map[string]any{"net": "vanilla", "n_f": 32, "epsilon": 0.0075}, 4, 7},
		{"toy-n100", map[string]any{"net": "toy", "epsilon": 0.125}, 10, 52},
	} {
		b.Run(c.name, func(b *testing.B) {
			os.Setenv("MALLOC_MMAP_THRESHOLD_", "33554432") // as the plugin sets for itself
			os.Setenv("MALLOC_TRIM_THRESHOLD_", "17179869184")
			p := plugintest.Start(b, plugintest.Suite{Package: plugintest.Executable(entry), Kind: sdk.KindEnergy, Config: c.cfg, CallTimeout: 10 * time.Minute})
			x := batch("bench", sdk.Float32, 100, p.Shapes["input"])
			comp := startComputer(b, `{"net": "`+c.cfg["net"].(string)+`", "epsilon": 0.1}`)
			comp.times(b, 3)
			for range 3 {
				p.Grad(context.Background(), x)
			}
			var call, compute []float64
			b.ResetTimer()
			for range b.N {
				for range c.blocks {
					time.Sleep(20 * time.Millisecond)
					compute = append(compute, comp.times(b, c.calls)[2:]...)
					time.Sleep(20 * time.Millisecond)
					for i := range c.calls {
						t0 := time.Now()
						if _, _, err := p.Grad(context.Background(), x); err != nil {
							b.Fatal(err)
						}
						if i >= 2 {
							call = append(call, time.Since(t0).Seconds())
						}
					}
				}
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
