package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/ebmflow/ebmflow/core/runner"
)

type verifyCommand struct{ ui }

func (c *verifyCommand) Synopsis() string { return "Rerun a run and compare its metrics" }
func (c *verifyCommand) Help() string {
	return strings.TrimSpace(`
Usage: ebmflow verify [options] RUNDIR

  Reruns the run in RUNDIR from scratch with the pipeline, variables, seed
  and plugin binaries its manifest recorded, and compares metrics.jsonl
  field by field (wall time aside): bit for bit by default. Names the first
  iteration and field that differ. This is the CI reproducibility check.

Options:

  -iterations N     compare only the first N iterations (default: all)
  -tolerance T      accept a relative difference up to T (default 0: exact)
  -keep             keep the rerun's folder (its path is printed)
  -log-level L      trace, debug, info, warn (default) or error

Exit codes: 0 identical; 1 invalid input; 2 the rerun failed; 5 the metrics
differ.
`) + "\n"
}

func (c *verifyCommand) Run(args []string) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(c.err)
	fs.Usage = func() { fmt.Fprint(c.err, c.Help()) }
	n := fs.Int("iterations", 0, "")
	tol := fs.Float64("tolerance", 0, "")
	keep := fs.Bool("keep", false, "")
	logLevel := fs.String("log-level", "warn", "")
	if err := fs.Parse(args); err != nil {
		return exitInvalid
	}
	if fs.NArg() != 1 || *tol < 0 || *n < 0 {
		fs.Usage()
		return exitInvalid
	}
	log, err := newLogger(c.err, "auto", *logLevel)
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitInvalid
	}
	res, err := runner.Verify(context.Background(), fs.Arg(0), *n, *tol, runner.Options{Logger: log})
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	if !*keep {
		os.RemoveAll(res.RerunDir)
	} else {
		fmt.Fprintf(c.out, "rerun kept in %s\n", res.RerunDir)
	}
	if res.Diff != nil {
		fmt.Fprintf(c.out, "DIFFERENT: %v\n", res.Diff)
		return exitDiffers
	}
	how := "bit for bit"
	if *tol > 0 {
		how = fmt.Sprintf("within relative tolerance %g", *tol)
	}
	fmt.Fprintf(c.out, "identical: %d iterations of %s match %s\n", res.Iterations, fs.Arg(0), how)
	return exitOK
}
