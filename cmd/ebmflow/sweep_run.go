package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ebmflow/ebmflow/core/sweep"
)

// run is `ebmflow sweep run PIPELINE`: it creates the sweep folder and runs
// the points locally, K at a time, or submits them as one Slurm job array.
func (c *sweepCommand) run(args []string) int {
	fs := c.flags("run")
	var executor, out, partition, tlimit, memory, account *string
	var parallel, cpus, gpus *int
	l, code := c.load(fs, args, func() {
		executor = fs.String("executor", sweep.Local, "")
		parallel = fs.Int("parallel", 0, "")
		out = fs.String("out", "", "")
		partition = fs.String("partition", "", "")
		tlimit = fs.String("time", "", "")
		cpus = fs.Int("cpus", 0, "")
		memory = fs.String("memory", "", "")
		gpus = fs.Int("gpus", 0, "")
		account = fs.String("account", "", "")
	})
	if l == nil {
		return code
	}
	if *executor != sweep.Local && *executor != sweep.Slurm {
		fmt.Fprintf(c.err, "Error: -executor must be local or slurm, not %q\n", *executor)
		return exitInvalid
	}
	sl := &l.Plan.Slurm
	for _, o := range []struct {
		dst *string
		v   string
	}{{&sl.Partition, *partition}, {&sl.Time, *tlimit}, {&sl.Memory, *memory}, {&sl.Account, *account}} {
		if o.v != "" {
			*o.dst = o.v
		}
	}
	if *cpus > 0 {
		sl.CPUs = *cpus
	}
	if *gpus > 0 {
		sl.GPUs = *gpus
	}
	if *parallel > 0 {
		l.Plan.Parallel = *parallel
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if *executor == sweep.Slurm {
		// Fail before creating anything when Slurm cannot take the job.
		if err := sweep.CheckSlurm(ctx); err != nil {
			fmt.Fprintf(c.err, "Error: %v\n", err)
			return exitFailed
		}
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("sweeps", l.Plan.Name+"-"+time.Now().UTC().Format("20060102T150405Z"))
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(c.err, "Error: cannot find the ebmflow binary: %v\n", err)
		return exitFailed
	}
	s, diags := sweep.Create(ctx, dir, l, *executor, self)
	if diags.HasErrors() {
		writeDiags(c.err, l.Files, diags)
		fmt.Fprintf(c.err, "Error preparing sweep: %d problems\nFor additional help try 'ebmflow sweep -help'\n", countErrors(diags))
		return exitInvalid
	}
	all := make([]int, len(s.Plan.Points))
	for i := range all {
		all[i] = i
	}
	return c.execute(ctx, s, all, *executor, s.Plan.Parallel)
}

// execute hands the points to the executor: local runs them to the end,
// slurm submits them.
func (c *sweepCommand) execute(ctx context.Context, s *sweep.Sweep, idx []int, executor string, parallel int) int {
	if executor == sweep.Slurm {
		job, err := s.SubmitSlurm(ctx, idx, parallel)
		if err != nil {
			fmt.Fprintf(c.err, "Error: %v\n", err)
			return exitFailed
		}
		fmt.Fprintf(c.err, "Submitted %d points as Slurm array job %s (%s%%%d); follow with: ebmflow sweep status %s\n",
			len(idx), job, sweep.ArraySpec(idx, 0), parallel, s.Dir)
		fmt.Fprintln(c.out, s.Dir)
		return exitOK
	}
	fmt.Fprintf(c.err, "Running %d points of sweep %s, %d at a time, in %s\n", len(idx), s.Plan.Name, parallel, s.Dir)
	_, err := s.RunLocal(ctx, idx, parallel, func(r sweep.Result) {
		switch {
		case r.Err != nil:
			fmt.Fprintf(c.err, "  point %d %s: error: %v\n", r.Point.Index, r.Point.Name, r.Err)
		case r.ExitCode == 0:
			fmt.Fprintf(c.err, "  point %d %s: done\n", r.Point.Index, r.Point.Name)
		default:
			fmt.Fprintf(c.err, "  point %d %s: exit %d (log: %s)\n", r.Point.Index, r.Point.Name, r.ExitCode, s.LogPath(r.Point))
		}
	})
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	sts, note, _ := s.Status(context.Background())
	c.printStatus(s, sts, note)
	fmt.Fprintln(c.out, s.Dir)
	if allDone(sts) {
		return exitOK
	}
	return exitFailed
}

func allDone(sts []sweep.PointStatus) bool {
	for _, st := range sts {
		if st.State != sweep.StateDone {
			return false
		}
	}
	return true
}
