package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/ebmflow/ebmflow/core/sweep"
)

// collect is `ebmflow sweep collect SWEEPDIR`: results.csv, results.md and
// results.png comparing the points' final metrics.
func (c *sweepCommand) collect(args []string) int {
	s, code := c.open(c.flags("collect"), args)
	if s == nil {
		return code
	}
	rows, note, err := s.Collect(context.Background())
	if rows == nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	if note != "" {
		fmt.Fprintf(c.err, "Note: %s\n", note)
	}
	paths, werr := s.WriteResults(rows)
	if werr != nil {
		fmt.Fprintf(c.err, "Error: %v\n", werr)
		return exitFailed
	}
	sweep.WriteMarkdown(c.out, s.Plan.Name, s.Plan.Variables, rows)
	fmt.Fprintf(c.err, "Wrote %s\n", strings.Join(paths, ", "))
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	return exitOK
}
