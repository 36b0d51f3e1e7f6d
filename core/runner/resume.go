package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/core/pipeline"
	"github.com/ebmflow/ebmflow/core/schedule"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/ebmflow/ebmflow/sdk/safetensors"
)

// Resume reopens a run folder and restores its last complete checkpoint:
// the pipeline as the manifest recorded it (same source, same variables,
// same seed), plugins whose SHA-256 must equal the manifest's, every stage's
// state, the schedule and the metrics up to that iteration. Training then
// continues exactly as if never stopped.
//
// Before that it tidies the checkpoints: temporary folders a killed
// checkpoint left behind are removed, and a damaged last checkpoint (a
// missing core.json, a truncated or unreadable file) is set aside as
// checkpoints/.damaged-NNNNNNNNN with a warning naming it and the earlier
// checkpoint used instead.
func Resume(ctx context.Context, dir string, opts Options) (*Run, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	tidyCheckpoints(dir, opts.Logger)
	r, cs, err := openAt(ctx, dir, m, 0, opts)
	for errors.Is(err, errDamaged) {
		var d *damagedError
		errors.As(err, &d)
		if aside := setAside(dir, d.t); aside != "" {
			prev := listCheckpoints(dir)
			next := "none is left"
			if len(prev) > 0 {
				next = fmt.Sprintf("resuming from the checkpoint after iteration %d", prev[len(prev)-1])
			}
			opts.Logger.Warn().Str("damaged", d.dir).Str("moved_to", aside).Str("problem", d.err.Error()).
				Msgf("the last checkpoint (iteration %d) is damaged; %s", d.t, next)
		} else {
			return nil, err
		}
		r, cs, err = openAt(ctx, dir, m, 0, opts)
	}
	if err != nil {
		return nil, err
	}
	t := cs.T
	var ss schedule.State
	if err := json.Unmarshal(cs.Schedule, &ss); err != nil {
		r.Close()
		return nil, fmt.Errorf("checkpoint %d: schedule: %w", t, err)
	}
	if err := r.sched.Restore(ss); err != nil {
		r.Close()
		return nil, fmt.Errorf("checkpoint %d: schedule: %w", t, err)
	}
	r.t, r.wallOff = cs.T, cs.Wall
	if r.metrics, err = openMetrics(filepath.Join(dir, "metrics.jsonl"), t); err != nil {
		r.Close()
		return nil, err
	}
	if err := truncateEvents(dir, t); err != nil {
		r.Close()
		return nil, err
	}
	r.log.Info().Int("t", t).Msg("resumed from checkpoint")
	return r, nil
}

// Open starts a run's stages and loads the checkpoint after iteration t
// (the last complete one if t <= 0), for commands that use a trained run
// without training it further (sample, score). It writes nothing to the run
// folder; the caller closes the run.
func Open(ctx context.Context, dir string, t int, opts Options) (*Run, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	r, cs, err := openAt(ctx, dir, m, t, opts)
	if err != nil {
		return nil, err
	}
	r.t = cs.T
	return r, nil
}

func openAt(ctx context.Context, dir string, m *Manifest, t int, opts Options) (*Run, coreState, error) {
	cps := listCheckpoints(dir)
	if len(cps) == 0 {
		return nil, coreState{}, fmt.Errorf("run folder %s has no complete checkpoint", dir)
	}
	if t <= 0 {
		t = cps[len(cps)-1]
	} else if !slices.Contains(cps, t) {
		return nil, coreState{}, fmt.Errorf("run folder %s has no checkpoint after iteration %d (it has %v)", dir, t, cps)
	}
	r, err := reopen(ctx, dir, m, opts)
	if err != nil {
		return nil, coreState{}, err
	}
	cs, err := r.loadCheckpoint(ctx, t, filepath.Join(dir, checkpointDir, checkpointName(t)))
	if err != nil {
		r.Close()
		return nil, coreState{}, err
	}
	return r, cs, nil
}

// Stage returns the running process of the named stage.
func (r *Run) Stage(name string) *host.Process { return r.st.Procs[name] }

// CheckpointStage reads one stage's saved state from a checkpoint folder.
func CheckpointStage(ckptDir, stage string) (*sdk.State, error) {
	tensors, _, err := safetensors.ReadFile(filepath.Join(ckptDir, stage+".safetensors"))
	if err != nil {
		return nil, err
	}
	meta, err := os.ReadFile(filepath.Join(ckptDir, stage+".state"))
	if err != nil {
		return nil, err
	}
	return &sdk.State{Meta: meta, Tensors: tensors}, nil
}

// LastCheckpoint returns the folder of a run's last complete checkpoint.
func LastCheckpoint(runDir string) (string, error) {
	cps := listCheckpoints(runDir)
	if len(cps) == 0 {
		return "", fmt.Errorf("run folder %s has no complete checkpoint", runDir)
	}
	return filepath.Join(runDir, checkpointDir, checkpointName(cps[len(cps)-1])), nil
}

// reopen loads the manifest's pipeline into a Run on dir with its plugins
// started and configured, without touching the run folder's files.
func reopen(ctx context.Context, dir string, m *Manifest, opts Options) (*Run, error) {
	// The plugins are checked against the manifest's hashes, not the lock
	// file beside the pipeline: the run was made with those binaries.
	pins := map[string]host.LockEntry{}
	if !opts.AllowChangedPlugins {
		for name, mp := range m.Plugins {
			pins[name] = host.LockEntry{Name: name, Version: mp.Version, Protocol: mp.Protocol, SHA256: mp.SHA256}
		}
	}
	res := host.NewRunResolver(ctx, filepath.Dir(m.Pipeline.Path), filepath.Join(dir, "manifest.json"), pins)
	p, res, diags := Load(ctx, m.Pipeline.Path, LoadOptions{Source: []byte(m.Pipeline.Source), Resolver: res,
		Options: pipeline.Options{Values: m.Variables, ValuesSource: "the run's manifest", Env: []string{}}})
	if diags.HasErrors() {
		if res != nil && res.Mismatch != nil {
			return nil, res.Mismatch
		}
		return nil, fmt.Errorf("manifest pipeline: %s", diags.Error())
	}
	for name, b := range res.Binaries() {
		if want := m.Plugins[name]; want.SHA256 != "" && want.SHA256 != b.SHA256 {
			opts.Logger.Warn().Str("plugin", name).Str("run_sha256", want.SHA256).Str("sha256", b.SHA256).Msg("plugin binary differs from the run's; continuing as asked")
		}
	}
	sched, err := schedule.New(*p.Schedule)
	if err != nil {
		return nil, err
	}
	r := &Run{Dir: dir, P: p, Manifest: m, opts: opts, sched: sched, log: opts.Logger.With().Str("run", dir).Logger()}
	h := host.New(host.Options{Logger: opts.Logger, StartTimeout: opts.StartTimeout, CallTimeout: opts.CallTimeout})
	st, diags := Launch(ctx, p, res, h, dir)
	if diags.HasErrors() {
		h.Close()
		return nil, fmt.Errorf("%s", diags.Error())
	}
	r.st = st
	return r, nil
}
