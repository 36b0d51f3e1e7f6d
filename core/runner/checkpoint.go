package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/ebmflow/ebmflow/sdk"
	"github.com/ebmflow/ebmflow/sdk/safetensors"
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
		state, err := r.st.Procs[s.Name].SaveState(ctx)
		if err != nil {
			return fmt.Errorf("checkpoint after iteration %d: %w", t, err)
		}
		if err := safetensors.WriteFile(filepath.Join(tmp, s.Name+".safetensors"), state.Tensors, map[string]string{"stage": s.Name, "plugin": s.Plugin}); err != nil {
			return fmt.Errorf("checkpoint stage %q: %w", s.Name, err)
		}
		if err := sdk.WriteFileAtomic(filepath.Join(tmp, s.Name+".state"), state.Meta, 0o644); err != nil {
			return err
		}
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
	r.log.Info().Int("t", t).Str("path", final).Msg("checkpoint written")
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

// loadCheckpoint restores every stage and the core state from the
// checkpoint after iteration t.
func (r *Run) loadCheckpoint(ctx context.Context, t int) (coreState, error) {
	dir := filepath.Join(r.Dir, checkpointDir, checkpointName(t))
	var cs coreState
	b, err := os.ReadFile(filepath.Join(dir, "core.json"))
	if err != nil {
		return cs, err
	}
	if err := json.Unmarshal(b, &cs); err != nil {
		return cs, fmt.Errorf("%s: %w", filepath.Join(dir, "core.json"), err)
	}
	for _, s := range r.st.P.Order {
		state, err := CheckpointStage(dir, s.Name)
		if err != nil {
			return cs, fmt.Errorf("checkpoint %s: stage %q: %w", dir, s.Name, err)
		}
		if err := r.st.Procs[s.Name].LoadState(ctx, state); err != nil {
			return cs, fmt.Errorf("checkpoint %s: %w", dir, err)
		}
	}
	return cs, nil
}
