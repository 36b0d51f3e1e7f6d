// Package plugins_test drives the four built-in plugins as real processes
// through the host, wired as a pipeline wires them: the data stage feeds
// positives, the sampler calls the energy over the brokered connection, the
// energy updates, the diagnostics stage observes and reports.
package plugins_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/core/pipeline"
	"github.com/ebmflow/ebmflow/core/runner"
	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/internal/testplugins"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/rs/zerolog"
)

var builtins = []string{"energy-convnet", "sampler-langevin", "data-mnist", "diag-oscillation"}

func build(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	args := []string{"build", "-o", dir + "/"}
	for _, b := range builtins {
		args = append(args, "./"+b+"/cmd/ebmflow-plugin-"+b)
	}
	cmd := exec.Command("go", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if err := testplugins.Build(dir); err != nil { // the quadratic test energy is testenergy
		t.Fatal(err)
	}
	return dir
}

type stages struct {
	data, energy, sampler, diag *host.Process
}

func raw(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func startAll(t *testing.T, h *host.Host, dir, runDir string, seed uint64, vals map[string]map[string]any) stages {
	t.Helper()
	ctx := context.Background()
	procs := map[string]*host.Process{}
	shapes := map[string]sdk.Shapes{}
	configure := func(stage, plugin string, links []rpc.Link) {
		p, err := h.Start(ctx, stage, host.Binary{Name: plugin, Path: filepath.Join(dir, host.BinaryPrefix+plugin)})
		if err != nil {
			t.Fatal(err)
		}
		v := map[string]json.RawMessage{}
		for k, x := range vals[stage] {
			v[k] = raw(x)
		}
		up := map[string]sdk.Shapes{}
		for _, l := range links {
			up[l.Attribute] = shapes[l.Target.Stage]
		}
		sh, diags, err := p.Configure(ctx, rpc.ConfigureArgs{Stage: stage, Seed: sdk.DeriveSeed(seed, stage), RunDir: runDir, Values: v, Links: links, Upstream: up})
		if err != nil {
			t.Fatal(err)
		}
		if diags.HasErrors() {
			t.Fatalf("stage %s: %v", stage, diags.Err())
		}
		procs[stage], shapes[stage] = p, sh
	}
	configure("data", "data-mnist", nil)
	configure("energy", "energy-convnet", nil)
	configure("sampler", "sampler-langevin", []rpc.Link{
		{Attribute: "energy", Target: procs["energy"].Client, Kind: sdk.KindEnergy},
		{Attribute: "data", Target: procs["data"].Client, Kind: sdk.KindData}})
	var diagLinks []rpc.Link
	if _, density := vals["diag"]["epsilon"]; density {
		diagLinks = []rpc.Link{
			{Attribute: "energy", Target: procs["energy"].Client, Kind: sdk.KindEnergy},
			{Attribute: "data", Target: procs["data"].Client, Kind: sdk.KindData},
			{Attribute: "sampler", Target: procs["sampler"].Client, Kind: sdk.KindSampler}}
	}
	configure("diag", "diag-oscillation", diagLinks)
	return stages{procs["data"], procs["energy"], procs["sampler"], procs["diag"]}
}

// train runs iterations by hand, as the core's runner does, and returns the
// records.
func train(t *testing.T, s stages, iters, batch int, lr float64) ([]sdk.Record, map[string]float64) {
	t.Helper()
	ctx := context.Background()
	var recs []sdk.Record
	metrics := map[string]float64{}
	for it := 1; it <= iters; it++ {
		pos, err := s.data.Next(ctx, sdk.NextRequest{N: batch, Stream: "positives"})
		if err != nil {
			t.Fatal(err)
		}
		neg, err := s.sampler.Sample(ctx, sdk.SampleRequest{T: it})
		if err != nil {
			t.Fatal(err)
		}
		u, err := s.energy.Update(ctx, sdk.UpdateRequest{Pos: pos, Neg: neg.X, LR: lr, T: it})
		if err != nil {
			t.Fatal(err)
		}
		r := sdk.Record{T: it, LR: lr, DST: u.DST, R: neg.R, MeanPos: u.MeanPos, MeanNeg: u.MeanNeg}
		for _, v := range []float64{r.DST, r.R, r.MeanPos, r.MeanNeg} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("iteration %d: non-finite record %+v", it, r)
			}
		}
		obs, err := s.diag.Observe(ctx, []sdk.Record{r})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range obs.Events {
			t.Logf("diagnostics event at t=%d: %s: %s", e.T, e.Level, e.Message)
		}
		for k, v := range obs.Metrics {
			metrics[k] = v
		}
		recs = append(recs, r)
	}
	return recs, metrics
}

func TestToyPipelineOverRealProcesses(t *testing.T) {
	dir := build(t)
	vals := map[string]map[string]any{
		"data":    {"dataset": "gmm"},
		"energy":  {"net": "toy", "epsilon": 0.125},
		"sampler": {"epsilon": 0.125, "steps": 20, "batch": 100, "init": "persistent", "bank_size": 10000},
		"diag":    {"epsilon": 0.125, "every": 5, "density_every": 10, "min_records": 5},
	}
	run := func(runDir string) ([]sdk.Record, map[string]float64) {
		h := host.New(host.Options{Logger: zerolog.New(os.Stderr).Level(zerolog.WarnLevel)})
		defer h.Close()
		s := startAll(t, h, dir, runDir, 123, vals)
		recs, metrics := train(t, s, 10, 100, 0.1)
		rep, err := s.diag.Report(context.Background(), true)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"diagnostics.png", "report.json", "density.png"} {
			if _, err := os.Stat(filepath.Join(runDir, f)); err != nil {
				t.Errorf("report did not write %s (files %v): %v", f, rep.Files, err)
			}
		}
		return recs, metrics
	}
	a, ma := run(t.TempDir())
	b, _ := run(t.TempDir())
	for _, k := range []string{"tv_ebm", "tv_samples", "tv_floor"} {
		if v, ok := ma[k]; !ok || v < 0 || v > 1 {
			t.Errorf("density diagnostic metric %s = %v (present %v): %v", k, v, ok, ma)
		}
	}
	// Same seed, fresh processes: the same numbers, bit for bit.
	for i := range a {
		if math.Float64bits(a[i].DST) != math.Float64bits(b[i].DST) || math.Float64bits(a[i].R) != math.Float64bits(b[i].R) {
			t.Fatalf("iteration %d differs between identical runs: %+v vs %+v", i+1, a[i], b[i])
		}
	}
}

func TestMNISTIterationOverRealProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("loads MNIST and runs a ConvNet")
	}
	dir := build(t)
	vals := map[string]map[string]any{
		"data":    {"dataset": "mnist", "size": 32, "data_noise": 0.015, "subset": 1000},
		"energy":  {"net": "vanilla", "n_f": 8, "epsilon": 0.0075},
		"sampler": {"epsilon": 0.0075, "steps": 3, "batch": 20, "init": "persistent"},
		"diag":    {},
	}
	h := host.New(host.Options{Logger: zerolog.New(os.Stderr).Level(zerolog.WarnLevel)})
	defer h.Close()
	s := startAll(t, h, dir, t.TempDir(), 123, vals)
	info, err := s.data.Describe(context.Background())
	if err != nil || info.Size != 1000 || !strings.HasPrefix(sdk.FormatShape(info.Shape), "[1 32 32]") {
		t.Fatalf("describe = %+v, %v", info, err)
	}
	recs, _ := train(t, s, 2, 20, 1e-2)
	// Appendix A: with the scaled energy and standard initialisation r_1 is
	// about 0.01 (bounds as in the energy plugin's own test).
	if r := recs[0].R; r < 0.002 || r > 0.05 {
		t.Errorf("r_1 = %v, want within [0.002, 0.05]", r)
	}
}

// TestREADMEPipelineValidates keeps the README's pipeline example true: it
// parses, binds against the built-in plugins' schemas and configures.
func TestREADMEPipelineValidates(t *testing.T) {
	dir := build(t)
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "```hcl\n")
	src, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("README has no hcl example")
	}
	pipe := filepath.Join(t.TempDir(), "readme.hcl")
	os.WriteFile(pipe, []byte(src), 0o644)
	t.Setenv(host.PathEnv, dir)
	t.Setenv("PATH", "")
	p, res, diags := runner.Load(context.Background(), pipe, runner.LoadOptions{Options: pipeline.Options{Env: []string{}}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	h := host.New(host.Options{Logger: zerolog.Nop()})
	defer h.Close()
	if _, diags := runner.Launch(context.Background(), p, res, h, ""); diags.HasErrors() {
		t.Fatal(diags)
	}
}

// TestLangevinStationaryLawOverBroker: the sampler plugin drives a quadratic
// energy plugin F(x) = (a/2)|x - mu|^2 through the host's broker. The
// discretised update x' = (1-a)x + a mu + eps z is an AR(1) whose stationary
// law is N(mu, eps^2 / (1 - (1-a)^2)) per coordinate.
func TestLangevinStationaryLawOverBroker(t *testing.T) {
	dir := build(t)
	ctx := context.Background()
	h := host.New(host.Options{Logger: zerolog.Nop()})
	defer h.Close()
	const a, mu, eps, chains, dims = 0.5, 0.3, 0.1, 2000, 2
	e, err := h.Start(ctx, "energy", host.Binary{Name: "testenergy", Path: filepath.Join(dir, host.BinaryPrefix+"testenergy")})
	if err != nil {
		t.Fatal(err)
	}
	shapes, d, err := e.Configure(ctx, rpc.ConfigureArgs{Stage: "energy", Values: map[string]json.RawMessage{
		"a": raw(a), "mu": raw(mu), "epsilon": raw(eps), "shape": raw([]int{dims})}})
	if err != nil || d.HasErrors() {
		t.Fatal(err, d.Err())
	}
	s, err := h.Start(ctx, "sampler", host.Binary{Name: "sampler-langevin", Path: filepath.Join(dir, host.BinaryPrefix+"sampler-langevin")})
	if err != nil {
		t.Fatal(err)
	}
	_, d, err = s.Configure(ctx, rpc.ConfigureArgs{Stage: "sampler", Seed: 99,
		Values:   map[string]json.RawMessage{"epsilon": raw(eps), "steps": raw(60), "batch": raw(chains), "dtype": raw("float64")},
		Links:    []rpc.Link{{Attribute: "energy", Target: e.Client, Kind: sdk.KindEnergy}},
		Upstream: map[string]sdk.Shapes{"energy": shapes}})
	if err != nil || d.HasErrors() {
		t.Fatal(err, d.Err())
	}
	// 60 steps: the AR(1) forgets its start as 0.5^60.
	res, err := s.Sample(ctx, sdk.SampleRequest{})
	if err != nil {
		t.Fatal(err)
	}
	n := float64(res.X.Len())
	m, v := 0.0, 0.0
	for i := 0; i < res.X.Len(); i++ {
		m += res.X.At(i)
	}
	m /= n
	for i := 0; i < res.X.Len(); i++ {
		v += (res.X.At(i) - m) * (res.X.At(i) - m)
	}
	v /= n - 1
	wantV := eps * eps / (1 - (1-a)*(1-a))
	// The n = 4000 coordinates are independent draws: the mean's standard
	// error is sqrt(V/n), the variance's V*sqrt(2/(n-1)); allow 5 of each.
	if se := math.Sqrt(wantV / n); math.Abs(m-mu) > 5*se {
		t.Errorf("mean %v, want %v +- %v", m, mu, 5*se)
	}
	if se := wantV * math.Sqrt(2/(n-1)); math.Abs(v-wantV) > 5*se {
		t.Errorf("variance %v, want %v +- %v", v, wantV, 5*se)
	}
}
