package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
)

// plan is `ebmflow sweep plan PIPELINE`: it prints the points and their run
// names (or, with -json, the plan).
func (c *sweepCommand) plan(args []string) int {
	fs := c.flags("plan")
	asJSON := fs.Bool("json", false, "")
	l, code := c.load(fs, args, nil)
	if l == nil {
		return code
	}
	if *asJSON {
		b, _ := json.MarshalIndent(l.Plan, "", "  ")
		fmt.Fprintf(c.out, "%s\n", b)
		return exitOK
	}
	p := l.Plan
	fmt.Fprintf(c.out, "Sweep %s: %d points of %s, %d at a time\n\n", p.Name, len(p.Points), p.Pipeline, p.Parallel)
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "INDEX\tRUN NAME\t%s\n", strings.Join(p.Variables, "\t"))
	for _, pt := range p.Points {
		vals := make([]string, len(p.Variables))
		for i, v := range p.Variables {
			vals[i] = pt.Vars[v]
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\n", pt.Index, pt.Name, strings.Join(vals, "\t"))
	}
	tw.Flush()
	return exitOK
}
