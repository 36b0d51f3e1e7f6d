package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/core/runner"
	"github.com/ebmflow/ebmflow/sdk"
	"golang.org/x/term"
)

// Exit codes of run, resume and verify beyond the common ones.
const (
	exitNonFinite   = 3 // a non-finite value stopped the run
	exitInterrupted = 4 // SIGINT/SIGTERM: a checkpoint was written
	exitDiffers     = 5 // verify found a difference
)

type runCommand struct{ ui }

func (c *runCommand) Synopsis() string { return "Train with a pipeline" }
func (c *runCommand) Help() string {
	return strings.TrimSpace(`
Usage: ebmflow run [options] PIPELINE
       ebmflow run [options] -resume RUNDIR

  Starts the pipeline's plugins and trains. Each run writes a folder
  (default runs/PIPELINE-UTCTIME/, or train.output): manifest.json,
  pipeline.hcl, metrics.jsonl, checkpoints/ (every checkpoint_every
  iterations, atomically, the last keep_checkpoints kept), samples/ (grids
  every sample_every iterations) and the diagnostics stages' files.

  SIGINT or SIGTERM finishes the current iteration, writes a checkpoint and
  stops (a second signal stops at once). -resume continues a run from its
  last complete checkpoint, exactly as if it had never stopped.

Options:

`+varFlagsHelp+`
  -resume RUNDIR    continue the run in RUNDIR
  -out DIR          the run folder (default runs/PIPELINE-UTCTIME)
  -log-format F     auto (human on a terminal, JSON otherwise), human or json
  -log-level L      trace, debug, info (default), warn or error
  -timeout D        bound on each plugin call, e.g. 10m (default: none)

Exit codes: 0 done; 1 invalid pipeline or options; 2 a failure during the
run (plugin crash, deadline, I/O); 3 a non-finite value stopped the run
(train.on_nonfinite = "stop"); 4 interrupted by a signal after writing a
checkpoint.
`) + "\n"
}

func (c *runCommand) Run(args []string) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(c.err)
	fs.Usage = func() { fmt.Fprint(c.err, c.Help()) }
	vars := addVarFlags(fs)
	resume := fs.String("resume", "", "")
	out := fs.String("out", "", "")
	logFormat := fs.String("log-format", "auto", "")
	logLevel := fs.String("log-level", "info", "")
	timeout := fs.Duration("timeout", 0, "")
	if err := fs.Parse(args); err != nil {
		return exitInvalid
	}
	switch {
	case *resume == "" && fs.NArg() == 0:
		fmt.Fprintln(c.err, "ebmflow run: no pipeline file given: ebmflow run [options] PIPELINE.hcl, or ebmflow run -resume RUN_DIR ('ebmflow help run' says more)")
		return exitInvalid
	case *resume != "" && fs.NArg() != 0:
		fmt.Fprintf(c.err, "ebmflow run: -resume continues the run in %s with its own pipeline; give no pipeline file (got %s)\n", *resume, strings.Join(fs.Args(), " "))
		return exitInvalid
	case fs.NArg() > 1:
		fmt.Fprintf(c.err, "ebmflow run: one pipeline file at a time, got %d: %s (options go before the file)\n", fs.NArg(), strings.Join(fs.Args(), " "))
		return exitInvalid
	}
	// On a terminal the log and the progress line share it through one
	// runner.Terminal, so that they never share a line.
	logw := c.err
	var screen *runner.Terminal
	if f, ok := c.err.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		screen = runner.NewTerminal(c.err)
		logw = screen
	}
	log, err := newLogger(logw, *logFormat, *logLevel)
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitInvalid
	}
	opts := runner.Options{Logger: log, RunDir: *out, CallTimeout: *timeout}
	if screen != nil {
		opts.Progress = screen
	}
	stop := make(chan struct{})
	opts.Stop = stop
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		s := <-sigs
		log.Warn().Str("signal", s.String()).Msg("stopping after this iteration; send it again to stop at once")
		close(stop)
		<-sigs
		cancel()
	}()

	var r *runner.Run
	if *resume != "" {
		if r, err = runner.Resume(ctx, *resume, opts); err != nil {
			fmt.Fprintf(c.err, "Error resuming %s: %v\n", *resume, err)
			var changed *host.ErrLockMismatch
			if errors.As(err, &changed) {
				return exitInvalid // a changed plugin is invalid input, as for a new run
			}
			return exitFailed
		}
	} else {
		p, res, d := runner.Load(ctx, fs.Arg(0), runner.LoadOptions{Options: vars.options()})
		if d.HasErrors() {
			writeDiags(c.err, files(p), d)
			fmt.Fprintf(c.err, "Error: the pipeline %s has %s\nFor additional help try 'ebmflow run -help'\n", fs.Arg(0), problems(countErrors(d)))
			return exitInvalid
		}
		run, more := runner.Prepare(ctx, p, res, opts)
		d = append(d, more...)
		if d.HasErrors() {
			writeDiags(c.err, files(p), d)
			fmt.Fprintf(c.err, "Error: the run could not start: %s\n", problems(countErrors(d)))
			return exitInvalid
		}
		r = run
	}
	defer r.Close()
	log.Info().Str("dir", r.Dir).Int("from", r.Iteration()+1).Int("to", r.P.Train.Iterations).Msg("training")
	start := time.Now()
	err = r.Train(ctx)
	switch {
	case err == nil:
		log.Info().Str("dir", r.Dir).Int("iterations", r.Iteration()).Dur("took", time.Since(start).Round(time.Millisecond)).Msg("run finished")
		fmt.Fprintln(c.out, r.Dir)
		return exitOK
	case errors.Is(err, runner.ErrInterrupted):
		fmt.Fprintf(c.err, "Interrupted after iteration %d; resume with: ebmflow run -resume %s\n", r.Iteration(), r.Dir)
		return exitInterrupted
	case errors.Is(err, sdk.ErrNonFinite):
		if last, cerr := runner.LastCheckpoint(r.Dir); cerr != nil {
			fmt.Fprintf(c.err, "Error: %v\nThe run stopped before its first checkpoint; %s holds its metrics up to the failure.\n", err, r.Dir)
		} else {
			fmt.Fprintf(c.err, "Error: %v\nThe last good checkpoint, %s, is intact.\n", err, last)
		}
		return exitNonFinite
	default:
		if _, cerr := runner.LastCheckpoint(r.Dir); cerr != nil {
			fmt.Fprintf(c.err, "Error: %v\nThe run stopped before its first checkpoint, so there is nothing to resume in %s; run the pipeline again.\n", err, r.Dir)
		} else {
			fmt.Fprintf(c.err, "Error: %v\nThe run folder %s keeps its last complete checkpoint; resume with: ebmflow run -resume %s\n", err, r.Dir, r.Dir)
		}
		return exitFailed
	}
}

// problems is "1 problem" or "N problems".
func problems(n int) string {
	if n == 1 {
		return "1 problem"
	}
	return fmt.Sprintf("%d problems", n)
}
