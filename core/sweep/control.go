package sweep

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// RetryIndices returns the points that retry resubmits: failed,
// interrupted, killed or cancelled.
func RetryIndices(sts []PointStatus) []int {
	var idx []int
	for _, st := range sts {
		if st.Retryable() {
			idx = append(idx, st.Index)
		}
	}
	return idx
}

// ClearCancel removes the mark `sweep cancel` left, before a retry.
func (s *Sweep) ClearCancel() error {
	err := os.Remove(filepath.Join(s.Dir, cancelMarker))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// Cancel stops the sweep: it marks the folder (a local executor starts no
// new point), sends SIGTERM to the runs of this machine's running local
// points, and scancels the Slurm jobs. Stopped runs write a checkpoint and
// exit 4; retry resumes them. It returns how many local runs it signalled.
func (s *Sweep) Cancel(ctx context.Context) (int, error) {
	if err := os.WriteFile(filepath.Join(s.Dir, cancelMarker), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		return 0, err
	}
	host, _ := os.Hostname()
	n := 0
	for _, p := range s.Plan.Points {
		a, err := s.ReadAttempt(p)
		if err != nil || a == nil || a.State != AttemptRunning || a.Executor != Local || a.Host != host {
			continue
		}
		if alive(a.RunPID) && syscall.Kill(a.RunPID, syscall.SIGTERM) == nil {
			n++
		}
	}
	if len(s.jobIDs()) > 0 {
		return n, s.CancelSlurm(ctx)
	}
	return n, nil
}

// Wait polls Status every poll until no point is pending or running, then
// returns the final states. each, when set, sees every poll's states.
func (s *Sweep) Wait(ctx context.Context, poll time.Duration, each func([]PointStatus, string)) ([]PointStatus, string, error) {
	for {
		sts, note, err := s.Status(ctx)
		if err != nil {
			return sts, note, err
		}
		if each != nil {
			each(sts, note)
		}
		active := false
		for _, st := range sts {
			active = active || st.Active()
		}
		if !active {
			return sts, note, nil
		}
		select {
		case <-ctx.Done():
			return sts, note, ctx.Err()
		case <-time.After(poll):
		}
	}
}
