package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/ebmflow/ebmflow/core/sweep"
)

// status is `ebmflow sweep status SWEEPDIR`: each point's state, with the
// exit code and the end of the log of failed points.
func (c *sweepCommand) status(args []string) int {
	fs := c.flags("status")
	asJSON := fs.Bool("json", false, "")
	s, code := c.open(fs, args)
	if s == nil {
		return code
	}
	sts, note, err := s.Status(context.Background())
	if sts == nil && err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	if *asJSON {
		b, _ := json.MarshalIndent(struct {
			Note   string              `json:"note,omitempty"`
			Points []sweep.PointStatus `json:"points"`
		}{note, sts}, "", "  ")
		fmt.Fprintf(c.out, "%s\n", b)
	} else {
		c.printStatus(s, sts, note)
	}
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	return exitOK
}

func (c *sweepCommand) printStatus(s *sweep.Sweep, sts []sweep.PointStatus, note string) {
	fmt.Fprintf(c.out, "Sweep %s (%s executor, %d points) in %s\n", s.Plan.Name, s.Executor, len(sts), s.Dir)
	if note != "" {
		fmt.Fprintf(c.out, "Note: %s\n", note)
	}
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INDEX\tNAME\tSTATE\tEXIT\tITERATION\tATTEMPT\tJOB\tDETAIL")
	for _, st := range sts {
		code := "-"
		if st.ExitCode != nil {
			code = strconv.Itoa(*st.ExitCode)
		}
		iter := strconv.Itoa(st.Iteration)
		if st.Total > 0 {
			iter += "/" + strconv.Itoa(st.Total)
		}
		job := st.Job
		if job == "" {
			job = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", st.Index, st.Name, st.State, code, iter, st.Attempt, job, st.Detail)
	}
	tw.Flush()
	counts := sweep.Counts(sts)
	keys := slices.Sorted(maps.Keys(counts))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, counts[k])
	}
	fmt.Fprintf(c.out, "%s\n", strings.Join(parts, ", "))
	for _, st := range sts {
		if len(st.LogTail) == 0 {
			continue
		}
		fmt.Fprintf(c.out, "\n%s %s (%s), end of %s:\n", st.Name, st.State, st.Detail, s.LogPath(st.Point))
		for _, l := range st.LogTail {
			fmt.Fprintf(c.out, "  | %s\n", l)
		}
	}
}
