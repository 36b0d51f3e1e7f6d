package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/ebmflow/ebmflow/core/sweep"
)

type sweepCommand struct{ ui }

func (c *sweepCommand) Synopsis() string { return "Run a pipeline at many points, locally or on Slurm" }
func (c *sweepCommand) Help() string {
	return strings.TrimSpace(`
Usage: ebmflow sweep plan    [options] PIPELINE
       ebmflow sweep run     [options] PIPELINE
       ebmflow sweep status  [-json] SWEEPDIR
       ebmflow sweep wait    [-poll D] [-timeout D] SWEEPDIR
       ebmflow sweep retry   [-parallel K] [-executor E] SWEEPDIR
       ebmflow sweep cancel  SWEEPDIR
       ebmflow sweep collect SWEEPDIR

  A sweep block in the pipeline (or in the file given by -sweep) lists
  values per variable: a grid block, whose every combination is a point,
  and a points list of explicit points. Each point is an ordinary
  'ebmflow run' in its own run folder SWEEPDIR/runs/NAME.

    sweep {
      grid { epsilon = [0.01, 0.1]  lr = [0.1, 0.01] }
      points = [{ epsilon = 0.5, lr = 0.3 }]
    }
    slurm { partition = "gpu"  time = "02:00:00"  cpus = 4  memory = "8G"  gpus = 1 }

  plan prints the points and their run names. run runs them: with
  -executor local as subprocesses of this ebmflow, K at a time, until all
  end; with -executor slurm as one job array (sbatch --array=...%K), then
  returns. status shows each point's state (from squeue and sacct for
  Slurm sweeps), with the exit code and the end of the log of failed
  points; wait waits until no point is queued or running; retry resubmits
  the failed, killed, interrupted and cancelled points, resuming each from
  its last checkpoint when it has one; cancel stops the sweep (running
  points checkpoint and stop); collect writes results.csv, results.md and
  results.png comparing the points' final metrics.

Options of plan and run:

`+varFlagsHelp+`
  -sweep FILE       read the sweep (and slurm) blocks from FILE
  -json             plan: print the points as JSON

Options of run:

  -executor E       local (default) or slurm
  -parallel K       points at once (default: the sweep block's parallel, or 2)
  -out DIR          the sweep folder (default sweeps/NAME-UTCTIME)
  -partition P, -time T, -cpus N, -memory M, -gpus N, -account A
                    Slurm resources, over the slurm block's

Exit codes: 0 ok (run, wait: every point done); 1 invalid input; 2 a
point failed (run -executor local, wait, retry -executor local) or Slurm
is not installed or not reachable.
`) + "\n"
}

func (c *sweepCommand) usage() int {
	fmt.Fprint(c.err, c.Help())
	return exitInvalid
}

// Run dispatches to the sub-subcommand, one file each (sweep_NAME.go).
func (c *sweepCommand) Run(args []string) int {
	if len(args) == 0 {
		return c.usage()
	}
	switch args[0] {
	case "plan":
		return c.plan(args[1:])
	case "run":
		return c.run(args[1:])
	case "status":
		return c.status(args[1:])
	case "wait":
		return c.wait(args[1:])
	case "retry":
		return c.retry(args[1:])
	case "cancel":
		return c.cancel(args[1:])
	case "collect":
		return c.collect(args[1:])
	case "task":
		return c.task(args[1:])
	case "-help", "--help", "-h", "help":
		fmt.Fprint(c.out, c.Help())
		return exitOK
	}
	fmt.Fprintf(c.err, "ebmflow sweep: unknown subcommand %q\n\n", args[0])
	return c.usage()
}

func (c *sweepCommand) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("sweep "+name, flag.ContinueOnError)
	fs.SetOutput(c.err)
	fs.Usage = func() { fmt.Fprint(c.err, c.Help()) }
	return fs
}

// load reads the plan of plan and run.
func (c *sweepCommand) load(fs *flag.FlagSet, args []string, extra func()) (*sweep.Loaded, int) {
	vars := addVarFlags(fs)
	sweepFile := fs.String("sweep", "", "")
	if extra != nil {
		extra()
	}
	if err := fs.Parse(args); err != nil {
		return nil, exitInvalid
	}
	if fs.NArg() != 1 {
		return nil, c.usage()
	}
	l, diags := sweep.Load(fs.Arg(0), sweep.LoadOptions{SweepFile: *sweepFile, Vars: vars.vars})
	if diags.HasErrors() {
		var files = l.Files
		writeDiags(c.err, files, diags)
		fmt.Fprintf(c.err, "Error parsing sweep: %d problems\nFor additional help try 'ebmflow sweep -help'\n", countErrors(diags))
		return nil, exitInvalid
	}
	return l, exitOK
}

// open reads the one SWEEPDIR argument.
func (c *sweepCommand) open(fs *flag.FlagSet, args []string) (*sweep.Sweep, int) {
	if err := fs.Parse(args); err != nil {
		return nil, exitInvalid
	}
	if fs.NArg() != 1 {
		return nil, c.usage()
	}
	s, err := sweep.Open(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return nil, exitInvalid
	}
	return s, exitOK
}
