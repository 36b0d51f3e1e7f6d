package main

import (
	"context"
	"fmt"

	"github.com/ebmflow/ebmflow/core/sweep"
)

// cancel is `ebmflow sweep cancel SWEEPDIR`: running points checkpoint and
// stop, and no new point starts.
func (c *sweepCommand) cancel(args []string) int {
	s, code := c.open(c.flags("cancel"), args)
	if s == nil {
		return code
	}
	n, err := s.Cancel(context.Background())
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	if jobs := len(s.Submissions); s.Executor == sweep.Slurm && jobs > 0 {
		fmt.Fprintf(c.err, "Cancelled the sweep's Slurm jobs; running points write a checkpoint and stop. Resume them with: ebmflow sweep retry %s\n", s.Dir)
	} else {
		fmt.Fprintf(c.err, "Cancelled: %d running points signalled, no new point starts. Resume with: ebmflow sweep retry %s\n", n, s.Dir)
	}
	return exitOK
}
