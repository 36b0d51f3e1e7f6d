package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/core/pipeline"
	"github.com/ebmflow/ebmflow/core/schedule"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/hashicorp/hcl/v2"
	"github.com/rs/zerolog"
)

// ErrInterrupted reports a run stopped by a signal after writing a
// checkpoint.
var ErrInterrupted = errors.New("run interrupted")

// Options configure a run.
type Options struct {
	Logger zerolog.Logger
	// Progress, when set, receives a one-line progress display (a terminal).
	Progress io.Writer
	// RunDir is the run folder; empty means OUTPUT/PIPELINE-UTCTIME, OUTPUT
	// being train.output (default runs/ beside the working directory).
	RunDir string
	// StopAfter ends the run after this iteration (0: train.iterations).
	StopAfter int
	// Stop, when closed, makes the run finish its current iteration, write
	// a checkpoint and return ErrInterrupted.
	Stop <-chan struct{}
	// AllowChangedPlugins lets Open use plugin binaries whose SHA-256
	// differs from the run's manifest (for sample and score, which need the
	// checkpoint to load, not bit-identical continuation). Resume and Verify
	// never set it.
	AllowChangedPlugins bool
	// StartTimeout and CallTimeout are passed to the plugin host.
	StartTimeout, CallTimeout time.Duration
}

// Run is a training run with its plugins started.
type Run struct {
	Dir      string
	Manifest *Manifest
	P        *pipeline.Pipeline

	opts    Options
	log     zerolog.Logger
	st      *Stages
	sched   *schedule.Schedule
	metrics *metricsFile
	started time.Time
	wallOff float64
	t       int
	box     *[2][2]float64
}

// Prepare makes a run of a pipeline that Load returned without errors: it
// pins newly found plugins in the lock file, creates the run folder (its
// manifest and pipeline.hcl) and starts and configures every stage. It
// reports every problem it finds; the diagnostics' snippets come from
// p.Files.
func Prepare(ctx context.Context, p *pipeline.Pipeline, res *host.Resolver, opts Options) (*Run, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	sched, err := schedule.New(*p.Schedule)
	if err != nil {
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid schedule", Detail: err.Error(), Subject: p.ScheduleRange.Ptr()})
	}
	dir := opts.RunDir
	if dir == "" {
		out := p.Train.Output
		if out == "" {
			out = "runs"
		}
		name := strings.TrimSuffix(filepath.Base(p.Path), filepath.Ext(p.Path))
		dir = filepath.Join(out, name+"-"+time.Now().UTC().Format("20060102T150405Z"))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot create run folder", Detail: err.Error()})
	}
	if err := res.Commit(); err != nil {
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot write lock file", Detail: err.Error()})
	}
	r := &Run{Dir: dir, P: p, opts: opts, sched: sched, log: opts.Logger.With().Str("run", dir).Logger()}
	r.Manifest = newManifest(p, res.Binaries())
	if err := r.Manifest.write(dir); err != nil {
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot write manifest", Detail: err.Error()})
	}
	if err := os.WriteFile(filepath.Join(dir, "pipeline.hcl"), p.Source, 0o644); err != nil {
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot write pipeline", Detail: err.Error()})
	}
	h := host.New(host.Options{Logger: opts.Logger, StartTimeout: opts.StartTimeout, CallTimeout: opts.CallTimeout})
	st, more := Launch(ctx, p, res, h, dir)
	diags = append(diags, more...)
	if diags.HasErrors() {
		h.Close()
		return nil, diags
	}
	r.st = st
	m, err := openMetrics(filepath.Join(dir, "metrics.jsonl"), 0)
	if err != nil {
		h.Close()
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot write metrics", Detail: err.Error()})
	}
	r.metrics = m
	return r, diags
}

// Close stops the plugins and closes the metrics file.
func (r *Run) Close() {
	if r.metrics != nil {
		r.metrics.close()
	}
	if r.st != nil {
		r.st.Close()
	}
}

// Iteration returns the last completed iteration.
func (r *Run) Iteration() int { return r.t }

func (r *Run) wall() float64 { return r.wallOff + time.Since(r.started).Seconds() }

func (r *Run) proc(stage string) *host.Process { return r.st.Procs[stage] }

// Train runs the iterations after the last completed one up to the end (or
// StopAfter). It writes metrics every iteration, checkpoints every
// checkpoint_every iterations and at the end, sample grids and diagnostic
// reports every sample_every iterations and at the end.
func (r *Run) Train(ctx context.Context) (err error) {
	t := r.P.Train
	last := t.Iterations
	if r.opts.StopAfter > 0 && r.opts.StopAfter < last {
		last = r.opts.StopAfter
	}
	st := r.startStatus(r.t, last)
	defer func() { r.endStatus(st, err) }()
	r.started = time.Now()
	prog := newProgress(r.opts.Progress, r.log, r.t, last)
	for it := r.t + 1; it <= last; it++ {
		select {
		case <-r.opts.Stop:
			return r.interrupt(ctx)
		default:
		}
		rec, err := r.iterate(ctx, it)
		if err != nil {
			return err
		}
		r.t = it
		r.sched.Step()
		prog.update(it, rec)
		if t.CheckpointEvery > 0 && it%t.CheckpointEvery == 0 {
			if err := r.writeCheckpoint(ctx, it); err != nil {
				return err
			}
		}
	}
	prog.done()
	if cps := listCheckpoints(r.Dir); len(cps) == 0 || cps[len(cps)-1] != r.t {
		if err := r.writeCheckpoint(ctx, r.t); err != nil {
			return err
		}
	}
	return r.report(ctx, true)
}

func (r *Run) interrupt(ctx context.Context) error {
	r.log.Warn().Int("t", r.t).Msg("interrupted: writing a checkpoint before stopping")
	if r.t > 0 {
		if err := r.writeCheckpoint(ctx, r.t); err != nil {
			return fmt.Errorf("%w; and the checkpoint failed: %v", ErrInterrupted, err)
		}
	}
	return ErrInterrupted
}

// iterate runs training iteration it.
func (r *Run) iterate(ctx context.Context, it int) (Metric, error) {
	t := r.P.Train
	lr := r.sched.LR()
	var (
		wg      sync.WaitGroup
		pos     *sdk.Tensor
		neg     *sdk.SampleResult
		posErr  error
		sampErr error
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		pos, posErr = r.proc(t.Data).Next(ctx, sdk.NextRequest{N: t.Batch, Stream: "positives"})
	}()
	go func() {
		defer wg.Done()
		neg, sampErr = r.proc(t.Sampler).Sample(ctx, sdk.SampleRequest{N: t.Batch, T: it})
	}()
	wg.Wait()
	if err := errors.Join(posErr, sampErr); err != nil {
		return Metric{}, r.failure(it, err)
	}
	sample := r.st.Shapes[t.Energy]["input"]
	if err := errors.Join(checkBatch(t.Data, "positives", pos, t.Batch, sample),
		checkBatch(t.Sampler, "negatives", neg.X, t.Batch, sample)); err != nil {
		return Metric{}, r.failure(it, err)
	}
	u, err := r.proc(t.Energy).Update(ctx, sdk.UpdateRequest{Pos: pos, Neg: neg.X, LR: lr, T: it})
	if err != nil {
		return Metric{}, r.failure(it, err)
	}
	m := Metric{T: it, LR: lr, DST: u.DST, R: neg.R, MeanPos: u.MeanPos, MeanNeg: u.MeanNeg, GradNorm: u.GradNorm}
	if !finite(m.DST, m.R, m.MeanPos, m.MeanNeg, m.GradNorm) {
		err := fmt.Errorf("%w at iteration %d: d_st = %v, r_t = %v (stage %q), mean F+ = %v, mean F- = %v, weight gradient norm = %v (stage %q)",
			sdk.ErrNonFinite, it, m.DST, m.R, t.Sampler, m.MeanPos, m.MeanNeg, m.GradNorm, t.Energy)
		if t.OnNonfinite != "ignore" {
			return Metric{}, err
		}
		r.log.Error().Err(err).Msg("non-finite values ignored (train.on_nonfinite = \"ignore\")")
	}
	m.Wall = r.wall()
	if err := r.observe(ctx, &m, pos, neg.X); err != nil {
		return Metric{}, r.failure(it, err)
	}
	if err := r.metrics.write(m); err != nil {
		return Metric{}, err
	}
	if t.SampleEvery > 0 && it%t.SampleEvery == 0 {
		r.t = it
		r.writeGrids(ctx, it, pos, neg.X)
		if err := r.report(ctx, false); err != nil {
			return Metric{}, err
		}
	}
	return m, nil
}

// failure wraps an error of iteration it. A plugin's sdk.ErrNonFinite
// crosses the boundary as its own status code and stays in the chain.
func (r *Run) failure(it int, err error) error {
	return fmt.Errorf("iteration %d: %w", it, err)
}
