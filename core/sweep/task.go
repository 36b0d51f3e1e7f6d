package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/ebmflow/ebmflow/sdk"
)

// Attempt states, as status/NAME.json records them.
const (
	AttemptSubmitted = "submitted" // handed to Slurm, not started
	AttemptRunning   = "running"   // ebmflow run started
	AttemptExited    = "exited"    // ebmflow run ended; ExitCode says how
)

// Attempt is a point's latest attempt, written by whoever runs the point.
type Attempt struct {
	Attempt  int    `json:"attempt"`
	State    string `json:"state"`
	Executor string `json:"executor"`
	// JobID is the Slurm task, ARRAYJOB_TASK.
	JobID string `json:"job_id,omitempty"`
	Host  string `json:"host,omitempty"`
	// PID runs the point (sweep task or the local executor); RunPID is the
	// ebmflow run process.
	PID    int `json:"pid,omitempty"`
	RunPID int `json:"run_pid,omitempty"`
	// ResumedFrom is the checkpoint the attempt resumed from (0: fresh).
	ResumedFrom int       `json:"resumed_from,omitempty"`
	Args        []string  `json:"args,omitempty"`
	Submitted   time.Time `json:"submitted,omitzero"`
	Started     time.Time `json:"started,omitzero"`
	Finished    time.Time `json:"finished,omitzero"`
	// ExitCode is ebmflow run's exit code (128+N after signal N).
	ExitCode *int   `json:"exit_code,omitempty"`
	Signal   string `json:"signal,omitempty"`
}

// ReadAttempt returns the point's latest attempt, or nil when it has none.
func (s *Sweep) ReadAttempt(p Point) (*Attempt, error) {
	b, err := os.ReadFile(s.StatusPath(p))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	a := &Attempt{}
	if err := json.Unmarshal(b, a); err != nil {
		return nil, fmt.Errorf("%s: %w", s.StatusPath(p), err)
	}
	return a, nil
}

func (s *Sweep) writeAttempt(p Point, a *Attempt) error {
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return err
	}
	return sdk.WriteFileAtomic(s.StatusPath(p), append(b, '\n'), 0o644)
}

// markSubmitted records a new attempt handed to Slurm as job.
func (s *Sweep) markSubmitted(p Point, job string) error {
	prev, _ := s.ReadAttempt(p)
	a := &Attempt{Attempt: 1, State: AttemptSubmitted, Executor: Slurm, JobID: job, Submitted: time.Now().UTC()}
	if prev != nil {
		a.Attempt = prev.Attempt + 1
	}
	return s.writeAttempt(p, a)
}

// lastCheckpoint returns the iteration of the run folder's last complete
// checkpoint (one with core.json), 0 when it has none.
func lastCheckpoint(runDir string) int {
	entries, _ := os.ReadDir(filepath.Join(runDir, "checkpoints"))
	var ts []int
	for _, e := range entries {
		if t, err := strconv.Atoi(e.Name()); err == nil && e.IsDir() {
			if _, err := os.Stat(filepath.Join(runDir, "checkpoints", e.Name(), "core.json")); err == nil {
				ts = append(ts, t)
			}
		}
	}
	sort.Ints(ts)
	if len(ts) == 0 {
		return 0
	}
	return ts[len(ts)-1]
}

// RunPoint runs point p as `ebmflow run` (the binary s.Ebmflow), its output
// appended to logs/NAME.log, and returns the run's exit code. A point whose
// run folder has a checkpoint resumes from it (`ebmflow run -resume`); any
// other starts afresh in an emptied run folder. status/NAME.json records
// the attempt before the run starts, with its process ids once it has, and
// its exit code when it ends: an attempt left "running" whose process is
// gone was killed. Cancelling ctx sends the run SIGTERM, so it writes a
// checkpoint and exits 4. job is the Slurm task (empty when local).
func (s *Sweep) RunPoint(ctx context.Context, p Point, executor, job string) (int, error) {
	prev, err := s.ReadAttempt(p)
	if err != nil {
		return -1, err
	}
	host, _ := os.Hostname()
	a := &Attempt{Attempt: 1, State: AttemptRunning, Executor: executor, JobID: job, Host: host, PID: os.Getpid(), Started: time.Now().UTC()}
	if prev != nil {
		a.Attempt, a.Submitted = prev.Attempt, prev.Submitted
		if prev.State != AttemptSubmitted {
			a.Attempt++
		}
	}
	run := s.RunDir(p)
	if t := lastCheckpoint(run); t > 0 {
		a.ResumedFrom = t
		a.Args = []string{"run", "-resume", run}
	} else {
		if err := os.RemoveAll(run); err != nil {
			return -1, err
		}
		a.Args = []string{"run", "-var-file", s.VarsPath(p), "-out", run, s.PipelinePath()}
	}
	if err := s.writeAttempt(p, a); err != nil {
		return -1, err
	}
	logf, err := os.OpenFile(s.LogPath(p), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return -1, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "=== ebmflow sweep: point %d (%s), attempt %d on %s at %s%s\n=== %s %q\n",
		p.Index, p.Name, a.Attempt, host, a.Started.Format(time.RFC3339), jobNote(job), s.Ebmflow, a.Args)

	cmd := exec.CommandContext(ctx, s.Ebmflow, a.Args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = s.Dir
	// Its own process group: a terminal's Ctrl-C reaches the executor,
	// which passes on exactly one SIGTERM.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 2 * time.Minute
	if err := cmd.Start(); err != nil {
		code := 127
		a.State, a.ExitCode, a.Finished = AttemptExited, &code, time.Now().UTC()
		fmt.Fprintf(logf, "=== cannot start ebmflow run: %v\n", err)
		s.writeAttempt(p, a)
		return code, nil
	}
	a.RunPID = cmd.Process.Pid
	if err := s.writeAttempt(p, a); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return -1, err
	}
	err = cmd.Wait()
	code := 0
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
			a.Signal = ws.Signal().String()
		}
	default:
		code = -1
	}
	a.State, a.ExitCode, a.Finished = AttemptExited, &code, time.Now().UTC()
	fmt.Fprintf(logf, "=== ebmflow run exited with code %d after %s\n", code, a.Finished.Sub(a.Started).Round(time.Millisecond))
	if err := s.writeAttempt(p, a); err != nil {
		return code, err
	}
	return code, nil
}

func jobNote(job string) string {
	if job == "" {
		return ""
	}
	return " (Slurm job " + job + ")"
}
