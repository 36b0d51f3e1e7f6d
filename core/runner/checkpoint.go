package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ebmflow/ebmflow/sdk"
	"github.com/rs/zerolog"
)

// coreState is the runner's own part of a checkpoint.
type coreState struct {
	T        int             `json:"t"`
	Schedule json.RawMessage `json:"schedule"`
	Wall     float64         `json:"wall_seconds"`
}

const checkpointDir = "checkpoints"

// checkpointName is the folder name of the checkpoint after iteration t.
func checkpointName(t int) string { return fmt.Sprintf("%09d", t) }

// writeCheckpoint saves every stage's state and the core state after
// iteration t into checkpoints/NNNNNNNNN, atomically: everything is written
// and synced in a temporary folder that is then renamed. Older checkpoints
// beyond keep are removed afterwards.
func (r *Run) writeCheckpoint(ctx context.Context, t int) error {
	start := time.Now()
	base := filepath.Join(r.Dir, checkpointDir)
	if err := os.MkdirAll(base, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(base, ".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, s := range r.st.P.Order {
		began := time.Now()
		if err := saveStage(ctx, r.st.Procs[s.Name], tmp, s.Name, s.Plugin); err != nil {
			return fmt.Errorf("checkpoint after iteration %d: %w", t, err)
		}
		r.log.Debug().Str("stage", s.Name).Float64("seconds", time.Since(began).Seconds()).Msg("stage state saved")
	}
	sched, err := json.Marshal(r.sched.State())
	if err != nil {
		return err
	}
	cs, _ := json.Marshal(coreState{T: t, Schedule: sched, Wall: r.wall()})
	if err := sdk.WriteFileAtomic(filepath.Join(tmp, "core.json"), cs, 0o644); err != nil {
		return err
	}
	if err := r.metrics.sync(); err != nil {
		return err
	}
	final := filepath.Join(base, checkpointName(t))
	os.RemoveAll(final)
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	syncDir(base)
	r.log.Info().Int("t", t).Str("path", final).Float64("seconds", time.Since(start).Seconds()).Msg("checkpoint written")
	return r.pruneCheckpoints()
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// listCheckpoints returns the complete checkpoints, oldest first.
func listCheckpoints(dir string) []int {
	entries, _ := os.ReadDir(filepath.Join(dir, checkpointDir))
	var ts []int
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || !e.IsDir() {
			continue
		}
		if t, err := strconv.Atoi(e.Name()); err == nil {
			if _, err := os.Stat(filepath.Join(dir, checkpointDir, e.Name(), "core.json")); err == nil {
				ts = append(ts, t)
			}
		}
	}
	sort.Ints(ts)
	return ts
}

func (r *Run) pruneCheckpoints() error {
	ts := listCheckpoints(r.Dir)
	for len(ts) > r.st.P.Train.KeepCheckpoints {
		if err := os.RemoveAll(filepath.Join(r.Dir, checkpointDir, checkpointName(ts[0]))); err != nil {
			return err
		}
		ts = ts[1:]
	}
	return nil
}

// errDamaged marks a checkpoint whose files cannot be read whole.
var errDamaged = errors.New("damaged checkpoint")

// damagedError is a checkpoint that cannot be read: which, and why.
type damagedError struct {
	t   int
	dir string
	err error
}

func (e *damagedError) Error() string {
	return fmt.Sprintf("checkpoint %s is damaged: %v", e.dir, e.err)
}

func (e *damagedError) Unwrap() []error { return []error{errDamaged, e.err} }

// tidyCheckpoints removes the temporary folders of checkpoints that were
// being written when a run was killed.
// A numbered folder without core.json (a checkpoint is renamed into place
// only once complete, so only damage makes one) is set aside, with a
// warning.
func tidyCheckpoints(dir string, log zerolog.Logger) {
	base := filepath.Join(dir, checkpointDir)
	tmps, _ := filepath.Glob(filepath.Join(base, ".tmp-*"))
	for _, p := range tmps {
		if err := os.RemoveAll(p); err == nil {
			log.Info().Str("path", p).Msg("removed an unfinished checkpoint")
		}
	}
	entries, _ := os.ReadDir(base)
	for _, e := range entries {
		t, err := strconv.Atoi(e.Name())
		if err != nil || !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(base, e.Name(), "core.json")); err == nil {
			continue
		}
		if aside := setAside(dir, t); aside != "" {
			log.Warn().Str("damaged", filepath.Join(base, e.Name())).Str("moved_to", aside).
				Msgf("the checkpoint after iteration %d has no core.json; it is not used", t)
		}
	}
}

// setAside renames the checkpoint after iteration t to .damaged-NNNNNNNNN
// (kept for inspection, no longer a checkpoint) and returns its new path,
// or "" if it cannot.
func setAside(dir string, t int) string {
	base := filepath.Join(dir, checkpointDir)
	to := filepath.Join(base, ".damaged-"+checkpointName(t))
	os.RemoveAll(to)
	if err := os.Rename(filepath.Join(base, checkpointName(t)), to); err != nil {
		return ""
	}
	syncDir(base)
	return to
}

// loadCheckpoint restores the core state and every stage from the
// checkpoint in dir, each stage's tensors streamed from its file. A file that
// cannot be read whole (missing, truncated, malformed) is a damagedError;
// the stages already given a state are then thrown away with the run.
func (r *Run) loadCheckpoint(ctx context.Context, t int, dir string) (coreState, error) {
	var cs coreState
	damaged := func(err error) (coreState, error) { return cs, &damagedError{t: t, dir: dir, err: err} }
	start := time.Now()
	b, err := os.ReadFile(filepath.Join(dir, "core.json"))
	if err != nil {
		return damaged(err)
	}
	if err := json.Unmarshal(b, &cs); err != nil {
		return damaged(fmt.Errorf("core.json: %w", err))
	}
	for _, s := range r.st.P.Order {
		f, meta, err := openStage(dir, s.Name)
		if err != nil {
			return damaged(fmt.Errorf("stage %q: %w", s.Name, err))
		}
		began := time.Now()
		err = loadStage(ctx, r.st.Procs[s.Name], f, meta)
		f.Close()
		r.log.Debug().Str("stage", s.Name).Float64("seconds", time.Since(began).Seconds()).Msg("stage state loaded")
		if err != nil {
			return cs, fmt.Errorf("checkpoint %s: %w", dir, err)
		}
	}
	r.log.Info().Int("t", t).Str("path", dir).Float64("seconds", time.Since(start).Seconds()).Msg("checkpoint loaded")
	return cs, nil
}
