package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Point states.
const (
	StatePlanned     = "planned"     // not handed to an executor
	StatePending     = "pending"     // queued in Slurm
	StateRunning     = "running"     // ebmflow run is running
	StateDone        = "done"        // ebmflow run exited 0
	StateFailed      = "failed"      // ebmflow run exited non-zero
	StateInterrupted = "interrupted" // SIGTERM/SIGINT: checkpointed, exit 4
	StateKilled      = "killed"      // gone without an exit code: SIGKILL, node lost, time limit
	StateCancelled   = "cancelled"   // left the queue without starting
)

// exitNames explain ebmflow run's exit codes.
var exitNames = map[int]string{1: "invalid pipeline or options", 2: "failure during the run", 3: "non-finite value", 4: "interrupted, checkpoint written"}

// PointStatus is what status reports of one point.
type PointStatus struct {
	Point
	State  string `json:"state"`
	Detail string `json:"detail,omitempty"`
	// ExitCode is ebmflow run's exit code, when it recorded one.
	ExitCode *int   `json:"exit_code,omitempty"`
	Attempt  int    `json:"attempt"`
	Job      string `json:"job,omitempty"`
	Host     string `json:"host,omitempty"`
	// Iteration is the last iteration in metrics.jsonl, Total the
	// pipeline's train.iterations, Checkpoint the last complete one.
	Iteration  int `json:"iteration"`
	Total      int `json:"total,omitempty"`
	Checkpoint int `json:"checkpoint,omitempty"`
	// SlurmState is Slurm's word for the task, when it had one.
	SlurmState string `json:"slurm_state,omitempty"`
	// LogTail is the end of the point's log, for failed and killed points.
	LogTail []string `json:"log_tail,omitempty"`
}

// Active reports a point that is queued or running.
func (p PointStatus) Active() bool { return p.State == StatePending || p.State == StateRunning }

// Retryable reports a point that retry resubmits.
func (p PointStatus) Retryable() bool {
	switch p.State {
	case StateFailed, StateInterrupted, StateKilled, StateCancelled:
		return true
	}
	return false
}

// LogTailLines is how many log lines status keeps of a failed point.
const LogTailLines = 8

// Status returns every point's state, from the points' own records and run
// folders and, for a Slurm sweep, from squeue and sacct. note says where
// the states came from when sacct could not be used. err wraps
// ErrSlurmUnavailable when Slurm did not answer; the states are then the
// run folders' alone.
func (s *Sweep) Status(ctx context.Context) (sts []PointStatus, note string, err error) {
	var tasks map[string]TaskState
	if ids := s.jobIDs(); len(ids) > 0 {
		if err = CheckSlurm(ctx); err == nil {
			tasks, note, err = QuerySlurm(ctx, ids)
		}
		if err != nil {
			note = "Slurm did not answer: states come from the run folders alone"
		}
	}
	cancelled := s.Cancelled()
	host, _ := os.Hostname()
	for _, p := range s.Plan.Points {
		st := PointStatus{Point: p, State: StatePlanned}
		run := s.RunDir(p)
		st.Iteration = lastMetricT(filepath.Join(run, "metrics.jsonl"))
		st.Checkpoint = lastCheckpoint(run)
		st.Total = totalIterations(run)
		a, rerr := s.ReadAttempt(p)
		if rerr != nil {
			return nil, note, rerr
		}
		if a == nil {
			if cancelled {
				st.State, st.Detail = StateCancelled, "never started: the sweep was cancelled"
			}
			sts = append(sts, st)
			continue
		}
		st.Attempt, st.Job, st.Host, st.ExitCode = a.Attempt, a.JobID, a.Host, a.ExitCode
		task, known := tasks[a.JobID]
		if known {
			st.SlurmState = task.State
		}
		switch {
		case known && task.Active():
			st.State = StateRunning
			if task.State == "PENDING" {
				st.State = StatePending
				st.Detail = "queued: " + task.Reason
			} else if task.State != "RUNNING" {
				st.Detail = "Slurm: " + task.State
			}
		case a.State == AttemptExited:
			code := *a.ExitCode
			switch {
			case code == 0:
				st.State = StateDone
			case code == 4:
				st.State, st.Detail = StateInterrupted, fmt.Sprintf("stopped by a signal; checkpoint at iteration %d", st.Checkpoint)
			case a.Signal != "":
				st.State, st.Detail = StateKilled, fmt.Sprintf("ebmflow run died of %s", a.Signal)
			default:
				st.State, st.Detail = StateFailed, fmt.Sprintf("exit %d", code)
				if n, ok := exitNames[code]; ok {
					st.Detail += ": " + n
				}
			}
		case a.State == AttemptRunning:
			switch {
			case a.Executor == Local && a.Host == host:
				if alive(a.RunPID) || (a.RunPID == 0 && alive(a.PID)) {
					st.State = StateRunning
				} else {
					st.State, st.Detail = StateKilled, "the run's process is gone without recording an exit (killed, or the machine went down)"
				}
			case a.Executor == Slurm && tasks != nil:
				st.State, st.Detail = StateKilled, "the task ended without recording an exit (node lost, killed or out of time)"
				if known {
					st.Detail = fmt.Sprintf("Slurm %s: the task ended without recording an exit", task.State)
				}
			default:
				st.State, st.Detail = StateRunning, "by its own record (its scheduler did not answer)"
			}
		case a.State == AttemptSubmitted:
			switch {
			case tasks == nil:
				st.State, st.Detail = StatePending, "by its own record (Slurm did not answer)"
			case known:
				st.State, st.Detail = StateCancelled, "Slurm "+task.State+" before it started"
			default:
				st.State, st.Detail = StateCancelled, "left the queue without starting"
			}
		}
		if st.State == StateFailed || st.State == StateKilled {
			st.LogTail = tailLines(s.LogPath(p), LogTailLines)
		}
		sts = append(sts, st)
	}
	return sts, note, err
}

// Counts tallies states.
func Counts(sts []PointStatus) map[string]int {
	c := map[string]int{}
	for _, st := range sts {
		c[st.State]++
	}
	return c
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	if err != nil && err != syscall.EPERM {
		return false
	}
	// A zombie still answers kill 0; /proc tells.
	b, rerr := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if rerr == nil {
		if i := bytes.LastIndexByte(b, ')'); i > 0 && i+2 < len(b) && b[i+2] == 'Z' {
			return false
		}
	}
	return true
}

// lastMetricT reads the t of the last complete line of metrics.jsonl.
func lastMetricT(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0
	}
	const chunk = 64 << 10
	off := max(fi.Size()-chunk, 0)
	buf := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
		return 0
	}
	lines := strings.Split(string(buf), "\n")
	for i := len(lines) - 2; i >= 0; i-- { // the last element follows the last newline
		var m struct {
			T int `json:"t"`
		}
		if json.Unmarshal([]byte(lines[i]), &m) == nil {
			return m.T
		}
	}
	return 0
}

func totalIterations(run string) int {
	b, err := os.ReadFile(filepath.Join(run, "manifest.json"))
	if err != nil {
		return 0
	}
	var m struct {
		Train struct {
			Iterations int `json:"iterations"`
		} `json:"train"`
	}
	json.Unmarshal(b, &m)
	return m.Train.Iterations
}

// tailLines returns the last n lines of the file at path.
func tailLines(path string, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, _ := f.Stat()
	const chunk = 32 << 10
	off := max(fi.Size()-chunk, 0)
	buf := make([]byte, fi.Size()-off)
	f.ReadAt(buf, off)
	lines := strings.Split(strings.TrimRight(string(buf), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
