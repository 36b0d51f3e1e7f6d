package plugins_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/plugins/energy-convnet/convnet"
	"github.com/ebmflow/ebmflow/plugins/sampler-langevin/langevin"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/rs/zerolog"
)

// boundaryCases are the two workloads of issue 8 item 3: VanillaNet on
// 1x32x32 images with n_f = 32, where one dF/dx call computes for tens of
// milliseconds, and the toy MLP on 2-D points, where it computes for tens of
// microseconds. Batch 100, 100 Langevin steps per iteration.
var boundaryCases = []struct {
	name   string
	energy map[string]any
	eps    float64
}{
	{"vanilla32/nf32/n100", map[string]any{"net": "vanilla", "n_f": 32, "epsilon": 0.0075}, 0.0075},
	{"toy/n100", map[string]any{"net": "toy", "epsilon": 0.125}, 0.125},
}

const (
	boundaryBatch = 100
	boundarySteps = 100
)

// BenchmarkTrainingIteration measures one learning iteration of issue 8
// item 3 (Sample of 100 chains x 100 Langevin steps, then Update on 100
// positives and the 100 negatives) three ways, in turn within each loop
// iteration so that the three see the same load on a shared machine:
//
//   - energy: the energy's compute alone, in process: convnet.New() called
//     directly, 100 Grad calls on a batch of 100 and one Update;
//   - inprocess: the sampler-langevin implementation linked directly to
//     another convnet instance in this process (adds the sampler's own work:
//     initial draws, noise, the L-term average; no gRPC);
//   - plugins: energy-convnet and sampler-langevin as real processes through
//     core/host, the sampler calling the energy over the host's broker at
//     every step, the host calling Sample then Update.
//
// It reports each as ms/iter, overhead-% (plugins against energy),
// sampler-% (inprocess against energy) and boundary-% (plugins against
// inprocess: the same work, the process boundary the only difference);
// ns/op is the sum of the three. The
// ConvNet iteration takes tens of seconds; run with a fixed count, e.g.
//
//	go test -run '^$' -bench TrainingIteration -benchtime 3x ./plugins
func BenchmarkTrainingIteration(b *testing.B) {
	dir := buildBoundary(b)
	ctx := context.Background()
	for _, c := range boundaryCases {
		b.Run(c.name, func(b *testing.B) {
			energyVals := rawValues(c.energy)
			samplerVals := rawValues(map[string]any{"epsilon": c.eps, "steps": boundarySteps, "batch": boundaryBatch})

			alone, shapes := inprocessEnergy(b, energyVals)
			x := uniformBatch(shapes["input"], 1, "x")
			pos, neg := uniformBatch(shapes["input"], 1, "pos"), uniformBatch(shapes["input"], 1, "neg")
			energyOnly := func() {
				for range boundarySteps {
					if _, _, err := alone.Grad(ctx, x); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := alone.Update(ctx, sdk.UpdateRequest{Pos: pos, Neg: neg, LR: 1e-5, T: 1}); err != nil {
					b.Fatal(err)
				}
			}

			e, _ := inprocessEnergy(b, energyVals)
			s := langevin.New()
			full, d := rpc.BuildConfig(s.Schema(), "sampler", 2, "", mustMarshal(samplerVals), map[string]string{"energy": "energy"})
			if d.HasErrors() {
				b.Fatal(d.Err())
			}
			full.Upstream = map[string]sdk.Shapes{"energy": shapes}
			full.SetLink("energy", e)
			if _, d := s.Configure(ctx, full); d.HasErrors() {
				b.Fatal(d.Err())
			}

			h := host.New(host.Options{Logger: zerolog.Nop()})
			defer h.Close()
			pe, err := h.Start(ctx, "energy", host.Binary{Name: "energy-convnet", Path: filepath.Join(dir, host.BinaryPrefix+"energy-convnet")})
			if err != nil {
				b.Fatal(err)
			}
			if _, d, err := pe.Configure(ctx, rpc.ConfigureArgs{Stage: "energy", Seed: 1, Values: energyVals}); err != nil || d.HasErrors() {
				b.Fatal(err, d.Err())
			}
			ps, err := h.Start(ctx, "sampler", host.Binary{Name: "sampler-langevin", Path: filepath.Join(dir, host.BinaryPrefix+"sampler-langevin")})
			if err != nil {
				b.Fatal(err)
			}
			if _, d, err := ps.Configure(ctx, rpc.ConfigureArgs{Stage: "sampler", Seed: 2, Values: samplerVals,
				Links:    []rpc.Link{{Attribute: "energy", Target: pe.Client, Kind: sdk.KindEnergy}},
				Upstream: map[string]sdk.Shapes{"energy": shapes}}); err != nil || d.HasErrors() {
				b.Fatal(err, d.Err())
			}

			// Warm up: compile the graphs of all three energies.
			energyOnly()
			iteration(ctx, b, s, e, pos)
			iteration(ctx, b, ps, pe, pos)
			var tEnergy, tIn, tPlugins time.Duration
			var cIn, cPlugins time.Duration // this process's CPU time
			plugins := []int{pe.Pid(), ps.Pid()}
			// The plugins' scheduler counts are read once around the loop
			// (they work only in their variant): reading them at every
			// iteration, from /proc, slowed the toy's plugins by half.
			before, err := schedOf(plugins...)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				t0 := time.Now()
				energyOnly()
				t1, c1 := time.Now(), cpuTime()
				iteration(ctx, b, s, e, pos)
				t2, c2 := time.Now(), cpuTime()
				iteration(ctx, b, ps, pe, pos)
				t3, c3 := time.Now(), cpuTime()
				tEnergy, tIn, tPlugins = tEnergy+t1.Sub(t0), tIn+t2.Sub(t1), tPlugins+t3.Sub(t2)
				cIn, cPlugins = cIn+c2-c1, cPlugins+c3-c2
			}
			after, err := schedOf(plugins...)
			if err != nil {
				b.Fatal(err)
			}
			n := float64(b.N)
			b.ReportMetric(tEnergy.Seconds()*1e3/n, "energy-ms/iter")
			b.ReportMetric(tIn.Seconds()*1e3/n, "inprocess-ms/iter")
			b.ReportMetric(tPlugins.Seconds()*1e3/n, "plugins-ms/iter")
			b.ReportMetric(100*(tPlugins.Seconds()-tEnergy.Seconds())/tEnergy.Seconds(), "overhead-%")
			b.ReportMetric(100*(tPlugins.Seconds()-tIn.Seconds())/tIn.Seconds(), "boundary-%")
			b.ReportMetric(100*(tIn.Seconds()-tEnergy.Seconds())/tEnergy.Seconds(), "sampler-%")
			// CPU time: this process's in the in-process variant; for the
			// plugins, theirs (over the whole loop, the warm-up excluded)
			// plus this process's as their host. Spinning waiters count
			// as CPU. plugins-runq is the time the plugins' threads were
			// runnable but waited for a core: on a shared machine, a
			// boundary-% that cpu-boundary-% does not show is time lost
			// to waiting, not extra work.
			used := after.sub(before)
			pluginsCPU := used.run + cPlugins
			b.ReportMetric(cIn.Seconds()*1e3/n, "inprocess-cpu-ms/iter")
			b.ReportMetric(pluginsCPU.Seconds()*1e3/n, "plugins-cpu-ms/iter")
			b.ReportMetric(100*(pluginsCPU.Seconds()-cIn.Seconds())/cIn.Seconds(), "cpu-boundary-%")
			b.ReportMetric(used.wait.Seconds()*1e3/n, "plugins-runq-ms/iter")
		})
	}
}

// iteration is one learning iteration: negatives from the sampler, then one
// update of the energy on pos and those negatives.
func iteration(ctx context.Context, b *testing.B, s sdk.SamplerLink, e interface {
	Update(context.Context, sdk.UpdateRequest) (sdk.UpdateResult, error)
}, pos *sdk.Tensor) {
	neg, err := s.Sample(ctx, sdk.SampleRequest{T: 1})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.Update(ctx, sdk.UpdateRequest{Pos: pos, Neg: neg.X, LR: 1e-5, T: 1}); err != nil {
		b.Fatal(err)
	}
}

func inprocessEnergy(b *testing.B, vals map[string]json.RawMessage) (*convnet.Plugin, sdk.Shapes) {
	b.Helper()
	e := convnet.New()
	cfg, d := rpc.BuildConfig(e.Schema(), "energy", 1, "", mustMarshal(vals), nil)
	if d.HasErrors() {
		b.Fatal(d.Err())
	}
	shapes, d := e.Configure(context.Background(), cfg)
	if d.HasErrors() {
		b.Fatal(d.Err())
	}
	return e, shapes
}

// uniformBatch is a batch of boundaryBatch samples of shape per, uniform on
// [-1, 1), drawn from a seeded stream.
func uniformBatch(per []int, seed uint64, name string) *sdk.Tensor {
	rng := sdk.NewStream(seed, name)
	x := sdk.NewTensor(sdk.Float32, append([]int{boundaryBatch}, per...)...)
	for i := range x.F32 {
		x.F32[i] = float32(2*rng.Float64() - 1)
	}
	return x
}

func rawValues(m map[string]any) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for k, v := range m {
		out[k] = raw(v)
	}
	return out
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// buildBoundary builds the energy and sampler plugins into a temporary
// directory.
func buildBoundary(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+"/",
		"./energy-convnet/cmd/ebmflow-plugin-energy-convnet", "./sampler-langevin/cmd/ebmflow-plugin-sampler-langevin")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}
