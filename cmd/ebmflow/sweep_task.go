package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/ebmflow/ebmflow/core/sweep"
)

// task runs one point inside a Slurm array task: `ebmflow sweep task DIR
// INDEX`, written into job.sh.
func (c *sweepCommand) task(args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(c.err, "Usage: ebmflow sweep task SWEEPDIR INDEX (run by the Slurm job script)")
		return exitInvalid
	}
	s, err := sweep.Open(args[0])
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitInvalid
	}
	i, err := strconv.Atoi(args[1])
	if err != nil {
		fmt.Fprintf(c.err, "Error: task index %q: %v\n", args[1], err)
		return exitInvalid
	}
	p, err := s.Point(i)
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitInvalid
	}
	// The first SIGTERM or SIGINT (sweep cancel's scancel --batch, or
	// --signal=B:TERM before the time limit) is passed on to ebmflow run,
	// which checkpoints and exits 4.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		for sig := range sigs {
			fmt.Fprintf(c.err, "ebmflow sweep task: %s received; ebmflow run is told to checkpoint and stop\n", sig)
			cancel()
		}
	}()
	job := os.Getenv("SLURM_ARRAY_JOB_ID")
	if job != "" {
		job += "_" + os.Getenv("SLURM_ARRAY_TASK_ID")
	}
	code, err := s.RunPoint(ctx, p, sweep.Slurm, job)
	if err != nil {
		fmt.Fprintf(c.err, "Error: point %d: %v\n", i, err)
		if code <= 0 {
			return exitFailed
		}
	}
	fmt.Fprintf(c.err, "point %d %s: ebmflow run exited %d\n", i, p.Name, code)
	if code < 0 || code > 255 {
		return exitFailed
	}
	return code
}
