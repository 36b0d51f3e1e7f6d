package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ebmflow/ebmflow/core/runner"
	"github.com/ebmflow/ebmflow/core/sweep"
)

// sweepPipeline is the e2e pipeline of test plugins with a sweep block:
// four points (data mean 0.5 or 1, nan_at 0 or 12), the nan_at = 12 ones
// stopping with a non-finite d_st at iteration 12 (exit 3).
var sweepPipeline = strings.Replace(e2ePipeline, "schedule \"lr\" {", `variable "mean" {
  type    = number
  default = 0.5
}

sweep {
  name     = "tiny"
  parallel = 2
  grid {
    mean   = [0.5, 1]
    nan_at = [0, 12]
  }
}

slurm {
  cpus   = 1
  memory = "200M"
  time   = "00:05:00"
}

schedule "lr" {`, 1)

func init() {
	sweepPipeline = strings.Replace(sweepPipeline, "  mean     = 0.5\n", "  mean     = var.mean\n", 1)
}

func writeSweep(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tiny.hcl")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// sweepRun runs the ebmflow binary with the environment of the test (PATH
// included, for Slurm's commands) and returns its exit code, stdout and
// stderr.
func sweepRun(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

func sweepStatus(t *testing.T, bin, dir string) (string, []sweep.PointStatus) {
	t.Helper()
	code, out, errs := sweepRun(t, bin, "sweep", "status", "-json", dir)
	if code != 0 {
		t.Fatalf("status: exit %d\n%s%s", code, out, errs)
	}
	var st struct {
		Note   string              `json:"note"`
		Points []sweep.PointStatus `json:"points"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status -json: %v\n%s", err, out)
	}
	return st.Note, st.Points
}

func TestSweepPlan(t *testing.T) {
	bin, _ := ebmflowBinary(t)
	pipe := writeSweep(t, sweepPipeline)
	code, out, errs := sweepRun(t, bin, "sweep", "plan", pipe)
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errs)
	}
	norm := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{"Sweep tiny: 4 points", "INDEX RUN NAME mean nan_at 0 0-mean_0.5-nan_at_0 0.5 0 1 1-mean_0.5-nan_at_12 0.5 12", "3 3-mean_1-nan_at_12 1 12"} {
		if !strings.Contains(norm, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	// A sweep variable the pipeline does not declare is reported with the
	// point it belongs to.
	bad := writeSweep(t, strings.Replace(sweepPipeline, "nan_at = [0, 12]", "nan_at = [0, 12]\n    epsilon = [0.1]", 1))
	code, _, errs = sweepRun(t, bin, "sweep", "plan", bad)
	if code != exitInvalid || !strings.Contains(errs, `Point 0 (0-mean_0.5-nan_at_0-epsilon_0.1): Value for undeclared variable`) {
		t.Fatalf("undeclared variable: exit %d\n%s", code, errs)
	}
}

// checkResults reads results.csv and checks each row against the point's
// own run folder.
func checkResults(t *testing.T, dir string, wantFailed map[int]bool) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, sweep.ResultsCSV))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 5 {
		t.Fatalf("results.csv has %d lines, want a header and 4 rows", len(recs))
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for i, r := range recs[1:] {
		name := r[col["name"]]
		ms := metrics(t, filepath.Join(dir, "runs", name))
		last := ms[len(ms)-1]
		if got := r[col["last_t"]]; got != strconv.Itoa(last.T) {
			t.Errorf("row %d: last_t %s, run folder ends at %d", i, got, last.T)
		}
		dst, _ := strconv.ParseFloat(r[col["d_st_last"]], 64)
		if diff := dst - last.DST; diff > 1e-5*abs(last.DST) || -diff > 1e-5*abs(last.DST) {
			t.Errorf("row %d: d_st_last %v, metrics say %v", i, dst, last.DST)
		}
		w := len(ms) / 2
		var mean float64
		for _, m := range ms[len(ms)-w:] {
			mean += m.DST / float64(w)
		}
		got, _ := strconv.ParseFloat(r[col["d_st_mean"]], 64)
		if d := got - mean; d > 1e-5*abs(mean) || -d > 1e-5*abs(mean) {
			t.Errorf("row %d: d_st_mean %v, want %v over the last %d", i, got, mean, w)
		}
		state, code := r[col["state"]], r[col["exit_code"]]
		if wantFailed[i] {
			if state != "failed" || code != "3" || last.T != 11 {
				t.Errorf("row %d: state %s, exit %s, last t %d; want failed, 3, 11", i, state, code, last.T)
			}
		} else if state != "done" || code != "0" || last.T != 40 {
			t.Errorf("row %d: state %s, exit %s, last t %d; want done, 0, 40", i, state, code, last.T)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, sweep.ResultsMD))
	if !strings.Contains(string(md), "| 1 | 1-mean_0.5-nan_at_12 | 0.5 | 12 | failed | 3 |") || !strings.Contains(string(md), "non-finite value at iteration 12") {
		t.Errorf("results.md:\n%s", md)
	}
	pf, err := os.Open(filepath.Join(dir, sweep.ResultsPNG))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	img, err := png.Decode(pf)
	if err != nil || img.Bounds().Dx() < 500 {
		t.Fatalf("results.png: %v", err)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// checkFailedThenRetried runs the common part of both executors' tests on
// a sweep folder whose first pass has ended: status, collect, then retry
// of only the failed points, which resume from their checkpoint of
// iteration 10 and stop at the same non-finite value again.
func checkFailedThenRetried(t *testing.T, bin, dir string, retry func()) {
	t.Helper()
	_, sts := sweepStatus(t, bin, dir)
	for _, st := range sts {
		failed := st.Index%2 == 1
		if failed != (st.State == sweep.StateFailed) || (!failed && st.State != sweep.StateDone) {
			t.Fatalf("point %d: %s (%s)", st.Index, st.State, st.Detail)
		}
		if failed && (st.ExitCode == nil || *st.ExitCode != 3 || !strings.Contains(strings.Join(st.LogTail, "\n"), "non-finite value at iteration 12")) {
			t.Fatalf("failed point %d: exit %v, log tail %q", st.Index, st.ExitCode, st.LogTail)
		}
	}
	code, out, errs := sweepRun(t, bin, "sweep", "collect", dir)
	if code != 0 || !strings.Contains(out, "| 3 | 3-mean_1-nan_at_12 | 1 | 12 | failed | 3 |") {
		t.Fatalf("collect: exit %d\n%s%s", code, out, errs)
	}
	checkResults(t, dir, map[int]bool{1: true, 3: true})

	retry()
	_, sts = sweepStatus(t, bin, dir)
	for _, st := range sts {
		want := 1
		if st.Index%2 == 1 {
			want = 2
		}
		if st.Attempt != want {
			t.Errorf("point %d: attempt %d after retry, want %d", st.Index, st.Attempt, want)
		}
	}
	log, _ := os.ReadFile(filepath.Join(dir, "logs", sts[1].Name+".log"))
	if !strings.Contains(string(log), `"-resume"`) || !strings.Contains(string(log), "resumed from checkpoint") || strings.Count(string(log), "non-finite value at iteration 12") != 2 {
		t.Errorf("retried point's log:\n%s", log)
	}
	if sts[1].State != sweep.StateFailed || sts[1].Iteration != 11 {
		t.Errorf("retried point: %s at %d", sts[1].State, sts[1].Iteration)
	}
}

func TestSweepLocal(t *testing.T) {
	bin, _ := ebmflowBinary(t)
	pipe := writeSweep(t, sweepPipeline)
	dir := filepath.Join(t.TempDir(), "sweep")
	code, out, errs := sweepRun(t, bin, "sweep", "run", "-executor", "local", "-parallel", "2", "-out", dir, pipe)
	if code != exitFailed || !strings.Contains(out, "done 2, failed 2") {
		t.Fatalf("run: exit %d\n%s%s", code, out, errs)
	}
	checkFailedThenRetried(t, bin, dir, func() {
		code, out, errs := sweepRun(t, bin, "sweep", "retry", dir)
		if code != exitFailed || !strings.Contains(errs, "Retrying point 1 1-mean_0.5-nan_at_12 (failed), resuming from checkpoint 10") || strings.Contains(errs, "Retrying point 0") {
			t.Fatalf("retry: exit %d\n%s%s", code, out, errs)
		}
	})
}

// TestSweepLocalKillCancelRetry: a point whose run is SIGKILLed shows as
// killed, cancel stops the running points with a checkpoint, and retry
// resumes both to the same numbers as runs never stopped.
func TestSweepLocalKillCancelRetry(t *testing.T) {
	bin, _ := ebmflowBinary(t)
	src := strings.Replace(sweepPipeline, "nan_at = [0, 12]", "nan_at = [0]", 1)
	src = strings.Replace(src, "default = 0\n}\nvariable \"nan_at\"", "default = 40\n}\nvariable \"nan_at\"", 1) // delay_ms
	pipe := writeSweep(t, src)
	dir := filepath.Join(t.TempDir(), "sweep")
	run := exec.Command(bin, "sweep", "run", "-parallel", "2", "-out", dir, pipe)
	var runOut bytes.Buffer
	run.Stdout, run.Stderr = &runOut, &runOut
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	defer run.Process.Kill()
	s := waitSweep(t, dir)
	waitIteration(t, s, 0, 13)
	a, err := s.ReadAttempt(s.Plan.Points[0])
	if err != nil || a == nil || a.RunPID == 0 {
		t.Fatalf("attempt of point 0: %+v %v", a, err)
	}
	syscall.Kill(a.RunPID, syscall.SIGKILL)
	waitIteration(t, s, 1, 7)
	if code, out, errs := sweepRun(t, bin, "sweep", "cancel", dir); code != 0 {
		t.Fatalf("cancel: exit %d\n%s%s", code, out, errs)
	}
	if err := run.Wait(); err == nil {
		t.Fatalf("a cancelled sweep exited 0:\n%s", runOut.String())
	}
	_, sts := sweepStatus(t, bin, dir)
	if sts[0].State != sweep.StateKilled || sts[0].Checkpoint < 10 {
		t.Errorf("killed point: %s (%s), checkpoint %d", sts[0].State, sts[0].Detail, sts[0].Checkpoint)
	}
	if sts[1].State != sweep.StateInterrupted || *sts[1].ExitCode != exitInterrupted {
		t.Errorf("cancelled point: %s (%s)", sts[1].State, sts[1].Detail)
	}
	if code, out, errs := sweepRun(t, bin, "sweep", "retry", dir); code != 0 {
		t.Fatalf("retry: exit %d\n%s%s", code, out, errs)
	}
	// Each resumed run matches an uninterrupted run of the same point.
	for _, p := range s.Plan.Points[:2] {
		ref := filepath.Join(t.TempDir(), "ref")
		if code, log := ebmflow(t, bin, "run", "-var-file", s.VarsPath(p), "-out", ref, s.PipelinePath()); code != 0 {
			t.Fatalf("reference run: exit %d\n%s", code, log)
		}
		sameMetrics(t, metrics(t, ref), metrics(t, s.RunDir(p)))
	}
}

func waitSweep(t *testing.T, dir string) *sweep.Sweep {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if s, err := sweep.Open(dir); err == nil {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatal("no sweep folder after 60 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitIteration waits until point i's metrics reach iteration n.
func waitIteration(t *testing.T, s *sweep.Sweep, i, n int) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		ms, _ := runner.ReadMetrics(filepath.Join(s.RunDir(s.Plan.Points[i]), "metrics.jsonl"))
		if len(ms) >= n {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(s.LogPath(s.Plan.Points[i]))
			t.Fatalf("point %d did not reach iteration %d:\n%s", i, n, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// needSlurm skips a test unless EBMFLOW_SLURM=1, which .ci/run sets after
// scripts/slurm/start.sh brought up a one-node Slurm.
func needSlurm(t *testing.T) {
	t.Helper()
	if os.Getenv("EBMFLOW_SLURM") != "1" {
		t.Skip("needs a Slurm cluster: run eval \"$(scripts/slurm/start.sh)\" and set EBMFLOW_SLURM=1 (.ci/run does both)")
	}
}

func cancelOnCleanup(t *testing.T, bin, dir string) {
	t.Cleanup(func() {
		if _, err := os.Stat(filepath.Join(dir, sweep.RecordFile)); err == nil {
			sweepRun(t, bin, "sweep", "cancel", dir)
		}
	})
}

func TestSweepSlurm(t *testing.T) {
	needSlurm(t)
	bin, _ := ebmflowBinary(t)
	pipe := writeSweep(t, sweepPipeline)
	dir := filepath.Join(t.TempDir(), "sweep")
	cancelOnCleanup(t, bin, dir)
	code, out, errs := sweepRun(t, bin, "sweep", "run", "-executor", "slurm", "-out", dir, pipe)
	if code != 0 || !strings.Contains(errs, "Submitted 4 points as Slurm array job") {
		t.Fatalf("run: exit %d\n%s%s", code, out, errs)
	}
	script, _ := os.ReadFile(filepath.Join(dir, sweep.JobScript))
	for _, want := range []string{"#SBATCH --cpus-per-task=1", "#SBATCH --mem=200M", "#SBATCH --time=00:05:00", " sweep task "} {
		if !strings.Contains(string(script), want) {
			t.Errorf("job.sh lacks %q:\n%s", want, script)
		}
	}
	wait := func() {
		t.Helper()
		code, out, errs := sweepRun(t, bin, "sweep", "wait", "-poll", "300ms", "-timeout", "3m", dir)
		if code != exitFailed || !strings.Contains(out, "done 2, failed 2") {
			t.Fatalf("wait: exit %d\n%s%s", code, out, errs)
		}
	}
	wait()
	note, _ := sweepStatus(t, bin, dir)
	t.Logf("status note: %q", note)
	checkFailedThenRetried(t, bin, dir, func() {
		code, out, errs := sweepRun(t, bin, "sweep", "retry", dir)
		if code != 0 || !strings.Contains(errs, "Submitted 2 points as Slurm array job") || !strings.Contains(errs, "(1,3%2)") || strings.Contains(errs, "Retrying point 0") {
			t.Fatalf("retry: exit %d\n%s%s", code, out, errs)
		}
		wait()
	})
}

// TestSweepSlurmKillCancelRetry: a task whose processes are SIGKILLed (a
// node gone) shows as killed, cancel stops a running array, and retry
// resumes both points from their checkpoints to the numbers of runs never
// stopped.
func TestSweepSlurmKillCancelRetry(t *testing.T) {
	needSlurm(t)
	bin, _ := ebmflowBinary(t)
	src := strings.Replace(sweepPipeline, "nan_at = [0, 12]", "nan_at = [0]", 1)
	src = strings.Replace(src, "default = 0\n}\nvariable \"nan_at\"", "default = 40\n}\nvariable \"nan_at\"", 1) // delay_ms
	pipe := writeSweep(t, src)
	dir := filepath.Join(t.TempDir(), "sweep")
	cancelOnCleanup(t, bin, dir)
	if code, out, errs := sweepRun(t, bin, "sweep", "run", "-executor", "slurm", "-out", dir, pipe); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errs)
	}
	s := waitSweep(t, dir)
	waitIteration(t, s, 0, 13)
	a, err := s.ReadAttempt(s.Plan.Points[0])
	if err != nil || a == nil || a.RunPID == 0 || a.PID == 0 || !strings.HasPrefix(a.JobID, s.Submissions[0].JobID+"_") {
		t.Fatalf("attempt of point 0: %+v %v", a, err)
	}
	// The node dies: the task and its run vanish without a word.
	syscall.Kill(a.PID, syscall.SIGKILL)
	syscall.Kill(a.RunPID, syscall.SIGKILL)
	waitIteration(t, s, 1, 7)
	if code, out, errs := sweepRun(t, bin, "sweep", "cancel", dir); code != 0 || !strings.Contains(errs, "Cancelled the sweep's Slurm jobs") {
		t.Fatalf("cancel: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs := sweepRun(t, bin, "sweep", "wait", "-poll", "300ms", "-timeout", "2m", dir)
	if code != exitFailed {
		t.Fatalf("wait after cancel: exit %d\n%s%s", code, out, errs)
	}
	_, sts := sweepStatus(t, bin, dir)
	if sts[0].State != sweep.StateKilled || sts[0].Checkpoint < 10 {
		t.Errorf("killed point: %s (%s), checkpoint %d", sts[0].State, sts[0].Detail, sts[0].Checkpoint)
	}
	if sts[1].State != sweep.StateInterrupted {
		log, _ := os.ReadFile(s.LogPath(s.Plan.Points[1]))
		t.Errorf("cancelled point: %s (%s)\n%s", sts[1].State, sts[1].Detail, log)
	}
	if code, out, errs := sweepRun(t, bin, "sweep", "retry", dir); code != 0 || strings.Count(errs, "resuming from checkpoint") != 2 {
		t.Fatalf("retry: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := sweepRun(t, bin, "sweep", "wait", "-poll", "300ms", "-timeout", "3m", dir); code != 0 {
		t.Fatalf("wait after retry: exit %d\n%s%s", code, out, errs)
	}
	for _, p := range s.Plan.Points[:2] {
		ref := filepath.Join(t.TempDir(), "ref")
		if code, log := ebmflow(t, bin, "run", "-var-file", s.VarsPath(p), "-out", ref, s.PipelinePath()); code != 0 {
			t.Fatalf("reference run: exit %d\n%s", code, log)
		}
		sameMetrics(t, metrics(t, ref), metrics(t, s.RunDir(p)))
	}
}

// TestSweepSlurmUnavailable: without Slurm's commands, or with a
// controller that does not answer, run says so in one error and creates
// nothing.
func TestSweepSlurmUnavailable(t *testing.T) {
	bin, _ := ebmflowBinary(t)
	pipe := writeSweep(t, sweepPipeline)
	dir := filepath.Join(t.TempDir(), "sweep")
	cmd := exec.Command(bin, "sweep", "run", "-executor", "slurm", "-out", dir, pipe)
	cmd.Env = append(os.Environ(), "PATH="+t.TempDir())
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != exitFailed || !strings.Contains(string(out), "slurm is not available: sbatch is not on PATH") {
		t.Fatalf("without sbatch: exit %d\n%s", cmd.ProcessState.ExitCode(), out)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("a failed submission left %s", dir)
	}
	if _, err := exec.LookPath("scontrol"); err != nil {
		return
	}
	conf := filepath.Join(t.TempDir(), "slurm.conf")
	os.WriteFile(conf, []byte("ClusterName=none\nSlurmctldHost=localhost\nSlurmctldPort=9\nNodeName=localhost CPUs=1\nPartitionName=p Nodes=localhost Default=YES\n"), 0o644)
	cmd = exec.Command(bin, "sweep", "run", "-executor", "slurm", "-out", dir, pipe)
	cmd.Env = append(os.Environ(), "SLURM_CONF="+conf)
	out, _ = cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != exitFailed || !strings.Contains(string(out), "slurm is not available: the controller does not answer") || strings.Count(string(out), "Error") != 1 {
		t.Fatalf("without a controller: exit %d\n%s", cmd.ProcessState.ExitCode(), out)
	}
}
