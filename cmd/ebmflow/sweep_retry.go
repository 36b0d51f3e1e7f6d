package main

import (
	"context"
	"fmt"
	"os/signal"
	"syscall"

	"github.com/ebmflow/ebmflow/core/sweep"
)

// retry is `ebmflow sweep retry SWEEPDIR`: it resubmits the failed, killed,
// interrupted and cancelled points, each resuming from its last checkpoint.
func (c *sweepCommand) retry(args []string) int {
	fs := c.flags("retry")
	parallel := fs.Int("parallel", 0, "")
	executor := fs.String("executor", "", "")
	s, code := c.open(fs, args)
	if s == nil {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	sts, note, err := s.Status(ctx)
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	if note != "" {
		fmt.Fprintf(c.err, "Note: %s\n", note)
	}
	idx := sweep.RetryIndices(sts)
	if len(idx) == 0 {
		fmt.Fprintln(c.err, "No point to retry: none failed, was killed, interrupted or cancelled.")
		c.printStatus(s, sts, note)
		if allDone(sts) {
			return exitOK
		}
		return exitFailed
	}
	for _, i := range idx {
		st := sts[i]
		how := "from the start"
		if st.Checkpoint > 0 {
			how = fmt.Sprintf("resuming from checkpoint %d", st.Checkpoint)
		}
		fmt.Fprintf(c.err, "Retrying point %d %s (%s), %s\n", i, st.Name, st.State, how)
	}
	if err := s.ClearCancel(); err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	ex := s.Executor
	if *executor != "" {
		ex = *executor
	}
	if ex != sweep.Local && ex != sweep.Slurm {
		fmt.Fprintf(c.err, "Error: -executor must be local or slurm, not %q\n", ex)
		return exitInvalid
	}
	p := s.Plan.Parallel
	if *parallel > 0 {
		p = *parallel
	}
	return c.execute(ctx, s, idx, ex, p)
}
