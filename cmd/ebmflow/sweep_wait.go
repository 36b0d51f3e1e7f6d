package main

import (
	"context"
	"fmt"
	"os/signal"
	"syscall"
	"time"

	"github.com/ebmflow/ebmflow/core/sweep"
)

// wait is `ebmflow sweep wait SWEEPDIR`: it returns when no point is queued
// or running.
func (c *sweepCommand) wait(args []string) int {
	fs := c.flags("wait")
	poll := fs.Duration("poll", 5*time.Second, "")
	timeout := fs.Duration("timeout", 0, "")
	s, code := c.open(fs, args)
	if s == nil {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	last := ""
	sts, note, err := s.Wait(ctx, *poll, func(sts []sweep.PointStatus, _ string) {
		counts := sweep.Counts(sts)
		line := fmt.Sprintf("pending %d, running %d, done %d, other %d", counts[sweep.StatePending], counts[sweep.StateRunning], counts[sweep.StateDone],
			len(sts)-counts[sweep.StatePending]-counts[sweep.StateRunning]-counts[sweep.StateDone])
		if line != last {
			fmt.Fprintf(c.err, "%s %s\n", time.Now().Format("15:04:05"), line)
			last = line
		}
	})
	if sts != nil {
		c.printStatus(s, sts, note)
	}
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	if allDone(sts) {
		return exitOK
	}
	return exitFailed
}
