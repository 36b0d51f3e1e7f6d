package sweep

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ebmflow/ebmflow/sdk"
)

// ErrSlurmUnavailable reports that Slurm's commands are missing or its
// controller does not answer.
var ErrSlurmUnavailable = errors.New("slurm is not available")

// CheckSlurm returns a wrapped ErrSlurmUnavailable, with what to do about
// it, when sbatch, squeue or scancel is not on PATH or `scontrol ping`
// finds no controller.
func CheckSlurm(ctx context.Context) error {
	for _, c := range []string{"sbatch", "squeue", "scancel", "scontrol"} {
		if _, err := exec.LookPath(c); err != nil {
			return fmt.Errorf("%w: %s is not on PATH; install Slurm's client commands (Debian: slurm-client) or load them (module load slurm)", ErrSlurmUnavailable, c)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "scontrol", "ping").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "UP") {
		msg := strings.TrimSpace(firstLine(string(out)))
		if msg == "" && err != nil {
			msg = err.Error()
		}
		conf := os.Getenv("SLURM_CONF")
		if conf == "" {
			conf = "the default slurm.conf"
		}
		return fmt.Errorf("%w: the controller does not answer (scontrol ping: %s); check that slurmctld runs and that %s names it", ErrSlurmUnavailable, msg, conf)
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// Script returns the batch script of the sweep's job array: the slurm
// block's resources as #SBATCH lines, its setup lines, then `ebmflow sweep
// task DIR $SLURM_ARRAY_TASK_ID`, which runs the task's point.
func (s *Sweep) Script() string {
	sl := s.Plan.Slurm
	var b strings.Builder
	b.WriteString("#!/bin/bash\n")
	opt := func(f string, a ...any) { fmt.Fprintf(&b, "#SBATCH "+f+"\n", a...) }
	opt("--job-name=ebmflow-%s", s.Plan.Name)
	opt("--output=%s", filepath.Join(s.Dir, "logs", "slurm-%A_%a.out"))
	opt("--chdir=%s", s.Dir)
	opt("--ntasks=1")
	if sl.Partition != "" {
		opt("--partition=%s", sl.Partition)
	}
	if sl.Time != "" {
		opt("--time=%s", sl.Time)
		// A minute before the limit the task passes SIGTERM to its run,
		// which checkpoints; retry resumes it.
		opt("--signal=B:TERM@60")
	}
	opt("--cpus-per-task=%d", max(sl.CPUs, 1))
	if sl.Memory != "" {
		opt("--mem=%s", sl.Memory)
	}
	if sl.GPUs > 0 {
		opt("--gpus-per-task=%d", sl.GPUs)
	}
	if sl.Account != "" {
		opt("--account=%s", sl.Account)
	}
	for _, o := range sl.Options {
		opt("%s", o)
	}
	fmt.Fprintf(&b, "# Written by ebmflow sweep: array task N runs point N of %s.\n", filepath.Join(s.Dir, RecordFile))
	for _, l := range sl.Setup {
		b.WriteString(l + "\n")
	}
	fmt.Fprintf(&b, "exec %s sweep task %s \"$SLURM_ARRAY_TASK_ID\"\n", shellQuote(s.Ebmflow), shellQuote(s.Dir))
	return b.String()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// ArraySpec renders indices as an sbatch --array value, ranges merged,
// with %parallel when parallel > 0: [0 1 2 5] and 2 give "0-2,5%2".
func ArraySpec(indices []int, parallel int) string {
	idx := append([]int(nil), indices...)
	sort.Ints(idx)
	var parts []string
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, strconv.Itoa(idx[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", idx[i], idx[j]))
		}
		i = j + 1
	}
	spec := strings.Join(parts, ",")
	if parallel > 0 {
		spec += "%" + strconv.Itoa(parallel)
	}
	return spec
}

// SubmitSlurm writes job.sh and submits the points with the given indices
// as one job array (sbatch --array=INDICES%parallel), each task's attempt
// marked submitted. It returns the array's job id.
func (s *Sweep) SubmitSlurm(ctx context.Context, indices []int, parallel int) (string, error) {
	if err := CheckSlurm(ctx); err != nil {
		return "", err
	}
	script := filepath.Join(s.Dir, JobScript)
	if err := sdk.WriteFileAtomic(script, []byte(s.Script()), 0o755); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "sbatch", "--parsable", "--array="+ArraySpec(indices, parallel), script)
	cmd.Dir = s.Dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("sbatch: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	job, _, _ := strings.Cut(strings.TrimSpace(string(out)), ";")
	if _, err := strconv.Atoi(job); err != nil {
		return "", fmt.Errorf("sbatch printed %q, not a job id", out)
	}
	s.Submissions = append(s.Submissions, Submission{Time: time.Now().UTC(), Executor: Slurm, JobID: job, Indices: indices, Retry: len(s.Submissions) > 0})
	for _, i := range indices {
		if err := s.markSubmitted(s.Plan.Points[i], job+"_"+strconv.Itoa(i)); err != nil {
			return job, err
		}
	}
	return job, s.Save()
}

// jobIDs returns the array job ids of every Slurm submission.
func (s *Sweep) jobIDs() []string {
	var ids []string
	for _, sub := range s.Submissions {
		if sub.JobID != "" {
			ids = append(ids, sub.JobID)
		}
	}
	return ids
}

// CancelSlurm cancels the sweep's array jobs: pending tasks are dropped
// (scancel --state=PENDING) and each running task's batch step, the
// `ebmflow sweep task` process, alone receives SIGTERM (scancel --batch
// --signal=TERM), which it passes on once to its ebmflow run: the run
// finishes its iteration, writes a checkpoint and exits 4, and the task
// ends with it. (A plain scancel signals every process of the task, the
// plugins too, and the run then ends with a plugin crash instead, its
// last periodic checkpoint intact.)
func (s *Sweep) CancelSlurm(ctx context.Context) error {
	ids := s.jobIDs()
	if len(ids) == 0 {
		return nil
	}
	if err := CheckSlurm(ctx); err != nil {
		return err
	}
	scancel := func(args ...string) error {
		out, err := exec.CommandContext(ctx, "scancel", append(args, ids...)...).CombinedOutput()
		if err != nil && !strings.Contains(string(out), "already completing or completed") && !strings.Contains(string(out), "Invalid job id") {
			return fmt.Errorf("scancel %s: %v: %s", strings.Join(append(args, ids...), " "), err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	if err := scancel("--state=PENDING"); err != nil {
		return err
	}
	if err := scancel("--state=RUNNING", "--batch", "--signal=TERM"); err != nil {
		return err
	}
	// A task that left PENDING between the two calls.
	return scancel("--state=PENDING")
}

// TaskState is what Slurm says of one array task.
type TaskState struct {
	State  string // PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, NODE_FAIL, TIMEOUT, ...
	Reason string
	Node   string
	// ExitCode is sacct's "code:signal", when sacct answered.
	ExitCode string
}

// Active reports a task that is queued or running.
func (t TaskState) Active() bool {
	switch t.State {
	case "PENDING", "RUNNING", "COMPLETING", "CONFIGURING", "SUSPENDED", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED":
		return true
	}
	return false
}

// QuerySlurm returns the state of every task of the given array jobs,
// keyed "JOB_TASK": squeue for tasks still known to the controller (queued,
// running, or recently ended), then sacct for the rest. When sacct is not
// usable (no slurmdbd: accounting storage disabled) note says so; the
// caller then knows ended tasks only from the run folders.
func QuerySlurm(ctx context.Context, jobs []string) (tasks map[string]TaskState, note string, err error) {
	tasks = map[string]TaskState{}
	if len(jobs) == 0 {
		return tasks, "", nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "squeue", "-h", "-r", "-t", "all", "-j", strings.Join(jobs, ","), "-o", "%i|%T|%r|%N")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil && !strings.Contains(stderr.String(), "Invalid job id") {
		return nil, "", fmt.Errorf("%w: squeue: %v: %s", ErrSlurmUnavailable, err, strings.TrimSpace(stderr.String()))
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(strings.TrimSpace(line), "|")
		if len(f) < 4 {
			continue
		}
		for _, id := range expandTaskIDs(f[0]) {
			tasks[id] = TaskState{State: f[1], Reason: f[2], Node: f[3]}
		}
	}
	stderr.Reset()
	cmd = exec.CommandContext(ctx, "sacct", "-n", "-P", "-X", "-j", strings.Join(jobs, ","), "-o", "JobID,State,ExitCode,NodeList,Reason")
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return tasks, fmt.Sprintf("sacct is not available (%s): states come from squeue and the run folders", firstLine(msg)), nil
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(strings.TrimSpace(line), "|")
		if len(f) < 5 {
			continue
		}
		state, _, _ := strings.Cut(f[1], " ") // "CANCELLED by 0"
		for _, id := range expandTaskIDs(f[0]) {
			if _, ok := tasks[id]; !ok {
				tasks[id] = TaskState{State: state, Reason: f[4], Node: f[3], ExitCode: f[2]}
			}
		}
	}
	return tasks, "", nil
}

// expandTaskIDs turns "12_3" into [12_3] and "12_[0-2,5%2]" into [12_0
// 12_1 12_2 12_5]; a plain job id stays as it is.
func expandTaskIDs(id string) []string {
	job, task, ok := strings.Cut(id, "_")
	if !ok || !strings.HasPrefix(task, "[") {
		return []string{id}
	}
	task = strings.TrimSuffix(strings.TrimPrefix(task, "["), "]")
	task, _, _ = strings.Cut(task, "%")
	var ids []string
	for _, part := range strings.Split(task, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil {
			continue
		}
		for i := a; i <= b; i++ {
			ids = append(ids, job+"_"+strconv.Itoa(i))
		}
	}
	return ids
}
