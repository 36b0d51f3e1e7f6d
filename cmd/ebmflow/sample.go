package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ebmflow/ebmflow/core/grid"
	"github.com/ebmflow/ebmflow/core/runner"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/ebmflow/ebmflow/sdk/safetensors"
)

type sampleCommand struct{ ui }

func (c *sampleCommand) Synopsis() string { return "Long-run sampling from a trained run's checkpoint" }
func (c *sampleCommand) Help() string {
	return strings.TrimSpace(`
Usage: ebmflow sample [options] RUNDIR

  Loads a run's checkpoint and runs its sampler for -steps Langevin steps
  (100,000 and more), in chunks of -every steps, without touching the
  persistent bank or the run's checkpoints. Writes into -out (default
  RUNDIR/longrun-T-INIT-UTCTIME): a sample grid after every chunk,
  trace.jsonl with the mean energy and drift norm of every step,
  samples.safetensors with the final states, and summary.json. For
  images also quality.jsonl: after every chunk, the chains' MMD^2 to 1,000
  held-out test images with its noise floor, and their fraction of
  saturated pixels (|x| >= 0.99; beyond [-1, 1]) against the data's.
  Convergent models keep realistic long-run samples; non-convergent ones
  oversaturate.

Options:

  -steps N          Langevin steps in all (required)
  -init I           data (positives with their data noise; default), uniform,
                    gaussian or persistent (chains from the bank, left as they are)
  -n N              chains (default 100)
  -every K          steps per chunk: a grid and a progress line each (default 1000)
  -mala             Metropolis-adjusted steps, with the acceptance rate reported
  -checkpoint T     the checkpoint after iteration T (default: the last)
  -out DIR          output folder
  -allow-changed-plugins
                    use plugin binaries that differ from the run's (the
                    checkpoint must still load; the run itself is untouched)
`) + "\n"
}

type stepLine struct {
	Step       int     `json:"step"`
	MeanEnergy float64 `json:"mean_energy"`
	DriftNorm  float64 `json:"drift_norm"`
}

func (c *sampleCommand) Run(args []string) int {
	fs := flag.NewFlagSet("sample", flag.ContinueOnError)
	fs.SetOutput(c.err)
	fs.Usage = func() { fmt.Fprint(c.err, c.Help()) }
	steps := fs.Int("steps", 0, "")
	init := fs.String("init", "data", "")
	n := fs.Int("n", 100, "")
	every := fs.Int("every", 1000, "")
	mala := fs.Bool("mala", false, "")
	ckpt := fs.Int("checkpoint", 0, "")
	out := fs.String("out", "", "")
	allowChanged := fs.Bool("allow-changed-plugins", false, "")
	if err := fs.Parse(args); err != nil {
		return exitInvalid
	}
	if fs.NArg() != 1 || *steps <= 0 || *n <= 0 || *every <= 0 || !slices.Contains([]string{"data", "uniform", "gaussian", "persistent"}, *init) {
		fs.Usage()
		return exitInvalid
	}
	log, _ := newLogger(c.err, "auto", "warn")
	ctx := context.Background()
	r, err := runner.Open(ctx, fs.Arg(0), *ckpt, runner.Options{Logger: log, AllowChangedPlugins: *allowChanged})
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	defer r.Close()
	dir := *out
	if dir == "" {
		dir = filepath.Join(fs.Arg(0), fmt.Sprintf("longrun-%d-%s-%s", r.Iteration(), *init, time.Now().UTC().Format("20060102T150405Z")))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	if err := c.longRun(ctx, r, dir, *steps, *every, *n, *init, *mala); err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	fmt.Fprintln(c.out, dir)
	return exitOK
}

func (c *sampleCommand) longRun(ctx context.Context, r *runner.Run, dir string, steps, every, n int, init string, mala bool) error {
	train := r.P.Train
	sampler := r.Stage(train.Sampler)
	var start *sdk.Tensor
	if init == "data" {
		var err error
		if start, err = r.Stage(train.Data).Next(ctx, sdk.NextRequest{N: n, Stream: "longrun"}); err != nil {
			return err
		}
	}
	box := [2][2]float64{{-1, 1}, {-1, 1}}
	info, err := r.Stage(train.Data).Describe(ctx)
	if err == nil && len(info.Box) == 2 {
		box = [2][2]float64(info.Box)
	}
	qual, err := newLongRunQuality(ctx, r.Stage(train.Data), info.Shape, n, dir, c.err)
	if err != nil {
		return err
	}
	defer qual.close()
	trace, err := os.Create(filepath.Join(dir, "trace.jsonl"))
	if err != nil {
		return err
	}
	defer trace.Close()
	enc := json.NewEncoder(trace)
	var accepted, proposedWeight float64
	began := time.Now()
	done := 0
	var x *sdk.Tensor
	for done < steps {
		k := min(every, steps-done)
		req := sdk.SampleRequest{N: n, Steps: k, LeaveBank: true, Trace: true, MALA: mala, Start: start}
		if start == nil {
			req.Init = init
		}
		res, err := sampler.Sample(ctx, req)
		if err != nil {
			return fmt.Errorf("steps %d to %d: %w", done+1, done+k, err)
		}
		for i, st := range res.Trace {
			if err := enc.Encode(stepLine{Step: done + i + 1, MeanEnergy: st.MeanEnergy, DriftNorm: st.DriftNorm}); err != nil {
				return err
			}
		}
		if res.AcceptRate >= 0 {
			accepted += res.AcceptRate * float64(k)
			proposedWeight += float64(k)
		}
		done += k
		x, start = res.X, res.X
		if err := c.figure(dir, done, x, box); err != nil {
			return err
		}
		q, err := qual.measure(done, x)
		if err != nil {
			return err
		}
		rate := float64(done) / time.Since(began).Seconds()
		fmt.Fprintf(c.err, "step %d/%d  %.1f steps/s  mean F %.4g  drift %.4g%s\n", done, steps, rate, res.Trace[len(res.Trace)-1].MeanEnergy, res.Trace[len(res.Trace)-1].DriftNorm, q)
	}
	if err := safetensors.WriteFile(filepath.Join(dir, "samples.safetensors"), map[string]*sdk.Tensor{"x": x}, map[string]string{"steps": fmt.Sprint(steps), "init": init}); err != nil {
		return err
	}
	summary := map[string]any{"run": r.Dir, "checkpoint": r.Iteration(), "steps": steps, "chains": n, "init": init, "mala": mala, "seconds": time.Since(began).Seconds()}
	if proposedWeight > 0 {
		summary["accept_rate"] = accepted / proposedWeight
	}
	if qual != nil && qual.last != nil {
		summary["quality"] = qual.last
	}
	b, _ := json.MarshalIndent(summary, "", "  ")
	return os.WriteFile(filepath.Join(dir, "summary.json"), append(b, '\n'), 0o644)
}

func (c *sampleCommand) figure(dir string, step int, x *sdk.Tensor, box [2][2]float64) error {
	path := filepath.Join(dir, fmt.Sprintf("samples-%09d.png", step))
	title := fmt.Sprintf("%d chains after %d steps", x.Batch(), step)
	switch len(x.Shape) {
	case 4:
		return grid.ImagesFigure(path, x, title)
	case 2:
		return grid.PointsFigure(path, x, box, title)
	}
	return nil
}
