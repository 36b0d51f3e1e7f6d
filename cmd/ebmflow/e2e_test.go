package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/core/runner"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/ebmflow/ebmflow/sdk/safetensors"
)

// e2ePipeline is a small pipeline of test plugins; -var sets its knobs.
const e2ePipeline = `
variable "iterations" {
  type    = number
  default = 40
}
variable "delay_ms" {
  type    = number
  default = 0
}
variable "nan_at" {
  type    = number
  default = 0
}

schedule "lr" {
  type    = "exp"
  initial = 0.05
  decay   = 0.99
  min     = 0.001
}

stage "energy" {
  plugin  = "testenergy"
  a       = 1.5
  epsilon = 0.1
  nan_at  = var.nan_at
}

stage "sampler" {
  plugin   = "testsampler"
  energy   = stage.energy
  epsilon  = 0.1
  steps    = 3
  delay_ms = var.delay_ms
}

stage "data" {
  plugin   = "testdata"
  mean     = 0.5
  sd       = 0.3
  delay_ms = var.delay_ms
}

stage "diag" {
  plugin = "testdiag"
}

train {
  iterations       = var.iterations
  seed             = 7
  batch            = 16
  checkpoint_every = 5
  keep_checkpoints = 2
  sample_every     = 20
  energy           = stage.energy
  sampler          = stage.sampler
  data             = stage.data
  diagnostics      = [stage.diag]
}
`

// ebmflowBinary builds the ebmflow command next to the test plugins, where
// it finds them first.
func ebmflowBinary(t *testing.T) (bin, kit string) {
	t.Helper()
	kit = testKit(t)
	bin = filepath.Join(kit, "ebmflow")
	if _, err := os.Stat(bin); err != nil {
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	return bin, kit
}

func writePipeline(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "e2e.hcl")
	if err := os.WriteFile(p, []byte(e2ePipeline), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func ebmflow(t *testing.T, bin string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "PATH=")
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, string(out)
}

func metrics(t *testing.T, dir string) []runner.Metric {
	t.Helper()
	ms, err := runner.ReadMetrics(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestRunThenVerify(t *testing.T) {
	bin, _ := ebmflowBinary(t)
	pipe := writePipeline(t)
	out := filepath.Join(t.TempDir(), "run")
	code, log := ebmflow(t, bin, "run", "-out", out, pipe)
	if code != 0 {
		t.Fatalf("run: exit %d\n%s", code, log)
	}
	ms := metrics(t, out)
	if len(ms) != 40 || ms[0].LR != 0.05 || ms[1].LR != 0.05*0.99 {
		t.Fatalf("%d metrics, lr %v %v", len(ms), ms[0].LR, ms[1].LR)
	}
	for _, f := range []string{"manifest.json", "pipeline.hcl", "testdiag.json", "checkpoints/000000040/core.json", "checkpoints/000000040/energy.safetensors", "checkpoints/000000035/sampler.state"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("run folder lacks %s", f)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "checkpoints/000000030")); !os.IsNotExist(err) {
		t.Errorf("keep_checkpoints = 2 kept checkpoint 30")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(pipe), host.LockFileName)); err != nil {
		t.Errorf("first run did not write the lock file: %v", err)
	}
	var m runner.Manifest
	b, _ := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err := json.Unmarshal(b, &m); err != nil || m.Seed != 7 || m.Plugins["testenergy"].SHA256 == "" || m.Variables["iterations"] != "40" {
		t.Fatalf("manifest: %v %+v", err, m)
	}

	code, log = ebmflow(t, bin, "verify", out)
	if code != 0 || !strings.Contains(log, "identical: 40 iterations") {
		t.Fatalf("verify: exit %d\n%s", code, log)
	}
	// Change one value in the record: verify names it.
	ms[16].DST = ms[16].DST * (1 + 1e-12)
	rewriteMetrics(t, out, ms)
	code, log = ebmflow(t, bin, "verify", "-iterations", "20", out)
	if code != exitDiffers || !strings.Contains(log, "iteration 17, field d_st") {
		t.Fatalf("verify of an altered record: exit %d\n%s", code, log)
	}
	code, log = ebmflow(t, bin, "verify", "-tolerance", "1e-9", out)
	if code != 0 {
		t.Fatalf("verify with tolerance: exit %d\n%s", code, log)
	}
}

func rewriteMetrics(t *testing.T, dir string, ms []runner.Metric) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, m := range ms {
		b, _ := json.Marshal(m)
		fmt.Fprintf(f, "%s\n", b)
	}
}

// sameMetrics compares two runs' metrics value for value, wall time aside.
func sameMetrics(t *testing.T, a, b []runner.Metric) {
	t.Helper()
	if d := runner.Compare(a, b, 0); d != nil {
		t.Fatalf("metrics differ: %v", d)
	}
}

func TestResumeAfterSIGKILL(t *testing.T) {
	bin, _ := ebmflowBinary(t)
	pipe := writePipeline(t)
	ref := filepath.Join(t.TempDir(), "ref")
	if code, log := ebmflow(t, bin, "run", "-out", ref, pipe); code != 0 {
		t.Fatalf("reference run: exit %d\n%s", code, log)
	}
	killed := filepath.Join(t.TempDir(), "killed")
	cmd := exec.Command(bin, "run", "-out", killed, "-var", "delay_ms=15", pipe)
	cmd.Env = append(os.Environ(), "PATH=")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it between checkpoints: after the checkpoint of iteration 10,
	// once metrics show iteration 13.
	waitIterations(t, cmd, killed, 13)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	code, log := ebmflow(t, bin, "run", "-resume", killed)
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s", code, log)
	}
	// The delay changes timing only; every number must match the
	// uninterrupted run's.
	sameMetrics(t, metrics(t, ref), metrics(t, killed))
}

func TestSignalWritesCheckpoint(t *testing.T) {
	bin, _ := ebmflowBinary(t)
	pipe := writePipeline(t)
	dir := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(bin, "run", "-out", dir, "-var", "delay_ms=20", pipe)
	cmd.Env = append(os.Environ(), "PATH=")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	done := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		close(done)
	}()
	for {
		ms, _ := runner.ReadMetrics(filepath.Join(dir, "metrics.jsonl"))
		if len(ms) >= 7 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	<-done
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit: %v\n%s", err, strings.Join(lines, "\n"))
	}
	ms := metrics(t, dir)
	last := ms[len(ms)-1].T
	if _, err := os.Stat(filepath.Join(dir, "checkpoints", fmt.Sprintf("%09d", last), "core.json")); err != nil {
		t.Fatalf("no checkpoint at the last iteration %d: %v", last, err)
	}
	if !strings.Contains(strings.Join(lines, "\n"), "ebmflow run -resume "+dir) {
		t.Errorf("no resume hint:\n%s", strings.Join(lines, "\n"))
	}
	if code, log := ebmflow(t, bin, "run", "-resume", dir); code != 0 {
		t.Fatalf("resume: exit %d\n%s", code, log)
	}
	if n := len(metrics(t, dir)); n != 40 {
		t.Fatalf("%d metrics after resume", n)
	}
}

func TestNonFiniteStops(t *testing.T) {
	bin, _ := ebmflowBinary(t)
	pipe := writePipeline(t)
	dir := filepath.Join(t.TempDir(), "run")
	code, log := ebmflow(t, bin, "run", "-out", dir, "-var", "nan_at=12", pipe)
	if code != exitNonFinite || !strings.Contains(log, "non-finite value at iteration 12") || !strings.Contains(log, `stage "energy"`) {
		t.Fatalf("exit %d\n%s", code, log)
	}
	if _, err := os.Stat(filepath.Join(dir, "checkpoints", "000000010", "core.json")); err != nil {
		t.Fatalf("last good checkpoint missing: %v", err)
	}
	if n := len(metrics(t, dir)); n != 11 {
		t.Fatalf("%d metrics lines, want 11", n)
	}
}

// TestStagesRunConcurrently checks, from the call times the test plugins
// record, that each iteration's positives and negatives were drawn at the
// same time.
func TestStagesRunConcurrently(t *testing.T) {
	bin, _ := ebmflowBinary(t)
	pipe := writePipeline(t)
	dir := filepath.Join(t.TempDir(), "run")
	if code, log := ebmflow(t, bin, "run", "-out", dir, "-var", "iterations=5", "-var", "delay_ms=50", pipe); code != 0 {
		t.Fatalf("exit %d\n%s", code, log)
	}
	spans := func(stage, method string) [][2]int64 {
		b, err := os.ReadFile(filepath.Join(dir, "checkpoints", "000000005", stage+".state"))
		if err != nil {
			t.Fatal(err)
		}
		var outer struct {
			Calls []byte `json:"calls"`
		}
		if err := json.Unmarshal(b, &outer); err != nil {
			t.Fatal(err)
		}
		var inner struct {
			Spans map[string][][2]int64 `json:"spans"`
		}
		if err := json.Unmarshal(outer.Calls, &inner); err != nil {
			t.Fatal(err)
		}
		return inner.Spans[method]
	}
	next, sample := spans("data", "next"), spans("sampler", "sample")
	if len(next) != 5 || len(sample) != 5 {
		t.Fatalf("%d next and %d sample calls recorded", len(next), len(sample))
	}
	for i := range next {
		if !(next[i][0] < sample[i][1] && sample[i][0] < next[i][1]) {
			t.Errorf("iteration %d: next %v and sample %v did not overlap", i+1, next[i], sample[i])
		}
	}
}

// TestPluginCrashLeavesRunResumable: a plugin that dies mid-run is named in
// the error, and the run folder keeps a loadable checkpoint.
func TestPluginCrashLeavesRunResumable(t *testing.T) {
	bin, _ := ebmflowBinary(t)
	src := strings.Replace(e2ePipeline, "  nan_at  = var.nan_at\n", "  nan_at  = var.nan_at\n  fail        = \"exit\"\n  fail_method = \"update\"\n  fail_after  = 12\n", 1)
	pipe := filepath.Join(t.TempDir(), "crash.hcl")
	os.WriteFile(pipe, []byte(src), 0o644)
	dir := filepath.Join(t.TempDir(), "run")
	code, log := ebmflow(t, bin, "run", "-out", dir, pipe)
	if code != exitFailed || !strings.Contains(log, `plugin "testenergy" (stage "energy") died during update`) || !strings.Contains(log, "iteration 13") {
		t.Fatalf("exit %d\n%s", code, log)
	}
	if !strings.Contains(log, "ebmflow run -resume "+dir) {
		t.Errorf("no resume hint:\n%s", log)
	}
	if n := len(metrics(t, dir)); n != 12 {
		t.Fatalf("%d metrics lines, want 12", n)
	}
	// The checkpoint of iteration 10 loads into fresh plugins: resuming
	// replays iterations 11 and 12 and dies at the same update again, which
	// shows the state (including the plugin's call count) came back.
	code, log = ebmflow(t, bin, "run", "-resume", dir)
	if code != exitFailed || !strings.Contains(log, "iteration 13") || !strings.Contains(log, "resumed from checkpoint") {
		t.Fatalf("resume: exit %d\n%s", code, log)
	}
}

func TestSampleAndScore(t *testing.T) {
	bin, _ := ebmflowBinary(t)
	pipe := writePipeline(t)
	dir := filepath.Join(t.TempDir(), "run")
	if code, log := ebmflow(t, bin, "run", "-out", dir, "-var", "iterations=10", pipe); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, log)
	}
	// Long run: 10 steps in chunks of 4, from uniform noise.
	lr := filepath.Join(t.TempDir(), "longrun")
	code, log := ebmflow(t, bin, "sample", "-steps", "10", "-every", "4", "-init", "uniform", "-n", "4", "-out", lr, dir)
	if code != 0 {
		t.Fatalf("sample: exit %d\n%s", code, log)
	}
	trace, _ := os.ReadFile(filepath.Join(lr, "trace.jsonl"))
	if n := strings.Count(string(trace), "\n"); n != 10 {
		t.Errorf("trace has %d lines, want 10", n)
	}
	for _, f := range []string{"samples-000000004.png", "samples-000000008.png", "samples-000000010.png", "summary.json"} {
		if _, err := os.Stat(filepath.Join(lr, f)); err != nil {
			t.Errorf("long run lacks %s", f)
		}
	}
	x, _, err := safetensors.ReadFile(filepath.Join(lr, "samples.safetensors"))
	if err != nil || x["x"].Expect(sdk.Float32, 4, 2) != nil {
		t.Fatalf("samples: %v %v", err, x)
	}
	// The run's checkpoint is untouched by the long run.
	if _, err := os.Stat(filepath.Join(dir, "checkpoints", "000000010", "core.json")); err != nil {
		t.Fatal(err)
	}

	// Score: F(x) = (a/2)|x - mu|^2 with a = 1.5 and mu from the checkpoint.
	ck, _, err := safetensors.ReadFile(filepath.Join(dir, "checkpoints", "000000010", "energy.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	mu := ck["mu"].At(0)
	in := filepath.Join(t.TempDir(), "in.safetensors")
	inputs := []float32{0, 0, 1, 2, -0.5, 0.25}
	safetensors.WriteFile(in, map[string]*sdk.Tensor{"x": sdk.FromFloat32(inputs, 3, 2)}, nil)
	out := filepath.Join(t.TempDir(), "scores.safetensors")
	if code, log := ebmflow(t, bin, "score", "-pipeline", pipe, "-checkpoint", dir, "-input", in, "-out", out, "-grad"); code != 0 {
		t.Fatalf("score: exit %d\n%s", code, log)
	}
	res, _, err := safetensors.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		d0, d1 := float64(inputs[2*i])-mu, float64(inputs[2*i+1])-mu
		if want := float64(float32(0.75 * (d0*d0 + d1*d1))); res["energy"].At(i) != want {
			t.Errorf("F(x_%d) = %v, want %v", i, res["energy"].At(i), want)
		}
		if want := float32(1.5 * d1); res["dfdx"].F32[2*i+1] != want {
			t.Errorf("dF/dx(x_%d)[1] = %v, want %v", i, res["dfdx"].F32[2*i+1], want)
		}
	}
	csvOut := filepath.Join(t.TempDir(), "scores.csv")
	if code, log := ebmflow(t, bin, "score", "-pipeline", pipe, "-checkpoint", filepath.Join(dir, "checkpoints", "000000010"), "-input", in, "-out", csvOut); code != 0 {
		t.Fatalf("score csv: exit %d\n%s", code, log)
	}
	b, _ := os.ReadFile(csvOut)
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) != 4 || lines[0] != "index,energy" {
		t.Fatalf("csv:\n%s", b)
	}
	// A wrongly shaped input is refused with both shapes.
	safetensors.WriteFile(in, map[string]*sdk.Tensor{"x": sdk.FromFloat32(inputs, 2, 3)}, nil)
	if code, log := ebmflow(t, bin, "score", "-pipeline", pipe, "-checkpoint", dir, "-input", in, "-out", out); code != exitInvalid || !strings.Contains(log, "expected inputs of shape [n 2], received [2 3]") {
		t.Fatalf("bad input: exit %d\n%s", code, log)
	}
}

// waitIterations waits until the run of cmd into dir has written n metrics
// lines; it kills the run if none come within a minute.
func waitIterations(t *testing.T, cmd *exec.Cmd, dir string, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if ms, _ := runner.ReadMetrics(filepath.Join(dir, "metrics.jsonl")); len(ms) >= n {
			return
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the run made no progress")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// childPid finds the plugin process of the given binary name among the
// children of parent.
func childPid(t *testing.T, parent int, name string) int {
	t.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		stat, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at ")".
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		cmdline, _ := os.ReadFile(filepath.Join(d, "cmdline"))
		if len(f) > 1 && f[1] == fmt.Sprint(parent) && strings.Contains(string(cmdline), name) {
			var pid int
			fmt.Sscan(filepath.Base(d), &pid)
			return pid
		}
	}
	return 0
}

// TestKilledStageThenResume: SIGKILL of the energy or the sampler in the
// middle of a run (their calls to each other go through a channel, not
// through this process) stops the run with one line naming the stage that
// died; resuming gives the uninterrupted run's numbers.
func TestKilledStageThenResume(t *testing.T) {
	bin, _ := ebmflowBinary(t)
	pipe := writePipeline(t)
	ref := filepath.Join(t.TempDir(), "ref")
	if code, log := ebmflow(t, bin, "run", "-out", ref, pipe); code != 0 {
		t.Fatalf("reference run: exit %d\n%s", code, log)
	}
	for _, stage := range []struct{ name, plugin string }{{"energy", "testenergy"}, {"sampler", "testsampler"}} {
		t.Run(stage.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			cmd := exec.Command(bin, "run", "-out", dir, "-var", "delay_ms=15", pipe)
			cmd.Env = append(os.Environ(), "PATH=")
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitIterations(t, cmd, dir, 13)
			pid := childPid(t, cmd.Process.Pid, "ebmflow-plugin-"+stage.plugin)
			if pid == 0 {
				cmd.Process.Kill()
				t.Fatalf("no %s process under the run", stage.plugin)
			}
			syscall.Kill(pid, syscall.SIGKILL)
			err := cmd.Wait()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != exitFailed {
				t.Fatalf("run after the kill: %v\n%s", err, out.String())
			}
			want := fmt.Sprintf("plugin %q (stage %q) died during", stage.plugin, stage.name)
			if !strings.Contains(out.String(), want) || strings.Contains(out.String(), "rpc error") {
				t.Fatalf("the log does not say %q in one line:\n%s", want, out.String())
			}
			for _, line := range strings.Split(out.String(), "\n") {
				if strings.Contains(line, "died during") {
					t.Logf("the user sees: %s", line)
				}
			}
			if code, log := ebmflow(t, bin, "run", "-resume", dir); code != 0 {
				t.Fatalf("resume: exit %d\n%s", code, log)
			}
			sameMetrics(t, metrics(t, ref), metrics(t, dir))
		})
	}
}
