package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ebmflow/ebmflow/sdk"
)

// StatusFile records how a run goes: written when training starts and
// again when it ends, so that a reader (ebmflow serve) tells a finished,
// failed or interrupted run from a running one, and a running one from one
// whose process is gone.
const StatusFile = "status.json"

// Run states recorded in status.json.
const (
	StateRunning     = "running"
	StateFinished    = "finished"
	StateFailed      = "failed"
	StateNonFinite   = "non_finite"
	StateInterrupted = "interrupted"
)

// Status is the content of status.json.
type Status struct {
	State string `json:"state"`
	// Host and PID name the training process; Boot and StartTicks (the
	// process's start time in clock ticks after boot, from /proc) tell it
	// from a later process that reuses the PID.
	Host       string    `json:"host"`
	PID        int       `json:"pid"`
	Boot       string    `json:"boot_id,omitempty"`
	StartTicks uint64    `json:"start_ticks,omitempty"`
	Started    time.Time `json:"started"`
	Ended      time.Time `json:"ended,omitzero"`
	// From is the first iteration of this attempt minus one (a resumed
	// run's checkpoint), To the last it was to train, Iteration the last
	// it completed when it ended.
	From      int    `json:"from"`
	To        int    `json:"to"`
	Iteration int    `json:"iteration,omitempty"`
	Error     string `json:"error,omitempty"`
}

// ReadStatus reads a run folder's status.json.
func ReadStatus(dir string) (*Status, error) {
	b, err := os.ReadFile(filepath.Join(dir, StatusFile))
	if err != nil {
		return nil, err
	}
	var s Status
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", StatusFile, err)
	}
	return &s, nil
}

func (s *Status) write(dir string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return sdk.WriteFileAtomic(filepath.Join(dir, StatusFile), append(b, '\n'), 0o644)
}

// startStatus records that this process trains iterations from+1 to to.
// A status that cannot be written is logged, not fatal: it only informs
// readers.
func (r *Run) startStatus(from, to int) *Status {
	hostname, _ := os.Hostname()
	boot, ticks := ProcessIdentity(os.Getpid())
	s := &Status{State: StateRunning, Host: hostname, PID: os.Getpid(), Boot: boot, StartTicks: ticks,
		Started: time.Now().UTC(), From: from, To: to}
	if err := s.write(r.Dir); err != nil {
		r.log.Warn().Err(err).Msg("status.json")
	}
	return s
}

// endStatus records how training ended: err is what Train returns.
func (r *Run) endStatus(s *Status, err error) {
	s.Ended, s.Iteration = time.Now().UTC(), r.t
	switch {
	case err == nil:
		s.State = StateFinished
	case errors.Is(err, ErrInterrupted):
		s.State = StateInterrupted
	case errors.Is(err, sdk.ErrNonFinite):
		s.State, s.Error = StateNonFinite, err.Error()
	default:
		s.State, s.Error = StateFailed, err.Error()
	}
	if werr := s.write(r.Dir); werr != nil {
		r.log.Warn().Err(werr).Msg("status.json")
	}
}
