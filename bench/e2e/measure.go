package main

import (
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
)

// row is one workload's medians over the rounds.
type row struct {
	w          *workload
	rounds, n  int
	steps      int
	ebm        float64            // ebmflow s/iteration
	host       float64            // ebmflow host process CPU %, NaN if not measured
	procs      map[string]float64 // plugin processes' CPU %
	torch      map[int]float64    // PyTorch s/iteration by thread count
	torchCPU   map[int]float64    // PyTorch process CPU % by thread count
	ebmCPUIt   float64            // ebmflow CPU seconds per iteration, all processes
	bestThread int                // the thread count with the least s/iteration
}

// measureWorkload runs rounds rounds of w: ebmflow once, then PyTorch once
// at each thread count, each for warmup + n iterations of steps Langevin
// steps, and returns the medians. It prints each round's numbers as a
// comment line.
func measureWorkload(w *workload, bin, script string, rounds, warmup, n, steps int, keep bool) (row, error) {
	var (
		ebm, host, cpuIt []float64
		procs            = map[string][]float64{}
		torch            = map[int][]float64{}
		torchCPU         = map[int][]float64{}
	)
	for r := 1; r <= rounds; r++ {
		e, err := runEbmflow(bin, w.pipeline, w.vars(warmup+n, steps), warmup, n, keep)
		if err != nil {
			return row{}, err
		}
		ebm = append(ebm, e.SecPerIter)
		fmt.Fprintf(os.Stderr, "e2e: %s round %d: ebmflow %.4f s/it\n", w.name, r, e.SecPerIter)
		line := fmt.Sprintf("# %s round %d/%d: ebmflow %.4f s/it", w.name, r, rounds, e.SecPerIter)
		if e.CPUOK {
			host = append(host, e.HostCPU)
			cpuIt = append(cpuIt, e.CPUPerIter)
			line += fmt.Sprintf(" (host %.1f%%, %s)", e.HostCPU, procList(e.Procs))
			for name, p := range e.Procs {
				procs[name] = append(procs[name], p)
			}
		} else {
			line += " (CPU not measured: no progress lines for iterations 1 and last in the log)"
		}
		extra, err := w.torchArgs(steps)
		if err != nil {
			return row{}, err
		}
		for _, th := range w.threads {
			t, err := runTorch(script, w.name, th, warmup, n, extra)
			if err != nil {
				return row{}, err
			}
			torch[th] = append(torch[th], t.SecPerIter)
			fmt.Fprintf(os.Stderr, "e2e: %s round %d: PyTorch %d threads %.4f s/it\n", w.name, r, th, t.SecPerIter)
			torchCPU[th] = append(torchCPU[th], t.CPUPercent)
			line += fmt.Sprintf("; PyTorch %d thr %.4f s/it (%.0f%% CPU)", th, t.SecPerIter, t.CPUPercent)
		}
		fmt.Println(line)
	}
	res := row{w: w, rounds: rounds, n: n, steps: steps, ebm: median(ebm), host: median(host), ebmCPUIt: median(cpuIt),
		procs: map[string]float64{}, torch: map[int]float64{}, torchCPU: map[int]float64{}}
	for name, v := range procs {
		res.procs[name] = median(v)
	}
	for _, th := range w.threads {
		res.torch[th], res.torchCPU[th] = median(torch[th]), median(torchCPU[th])
		if res.bestThread == 0 || res.torch[th] < res.torch[res.bestThread] {
			res.bestThread = th
		}
	}
	return res, nil
}

// median returns the median of v, NaN if v is empty.
func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// procList formats plugin CPU percentages sorted by name.
func procList(p map[string]float64) string {
	names := slices.Sorted(maps.Keys(p))
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %.0f%%", n, p[n])
	}
	return strings.Join(parts, ", ")
}

// printTable prints one line per workload, in Markdown with md.
func printTable(rows []row, md bool) {
	head := []string{"workload", "iterations x rounds", "ebmflow s/it", "PyTorch s/it", "PyTorch threads",
		"ebmflow / PyTorch", "ebmflow host CPU %", "plugin CPU %", "PyTorch CPU %", "CPU s/it ebmflow", "CPU s/it PyTorch"}
	var lines [][]string
	for _, r := range rows {
		var alts []string
		for _, th := range r.w.threads {
			alts = append(alts, fmt.Sprintf("%d: %.4f", th, r.torch[th]))
		}
		host, cpuIt := "n/a", "n/a"
		if !math.IsNaN(r.host) {
			host, cpuIt = fmt.Sprintf("%.1f", r.host), fmt.Sprintf("%.3f", r.ebmCPUIt)
		}
		best := r.torch[r.bestThread]
		lines = append(lines, []string{
			fmt.Sprintf("%s (%s; %d steps)", r.w.name, r.w.pipeline, r.steps),
			fmt.Sprintf("%d x %d", r.n, r.rounds),
			fmt.Sprintf("%.4f", r.ebm),
			fmt.Sprintf("%.4f", best),
			fmt.Sprintf("%d (of %s s/it)", r.bestThread, strings.Join(alts, ", ")),
			fmt.Sprintf("%.2f", r.ebm/best),
			host,
			procList(r.procs),
			fmt.Sprintf("%.0f", r.torchCPU[r.bestThread]),
			cpuIt,
			fmt.Sprintf("%.3f", r.torchCPU[r.bestThread]/100*best),
		})
	}
	if md {
		fmt.Println("| " + strings.Join(head, " | ") + " |")
		fmt.Println("|" + strings.Repeat("---|", len(head)))
		for _, l := range lines {
			fmt.Println("| " + strings.Join(l, " | ") + " |")
		}
		return
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, l := range lines {
		fmt.Fprintln(tw, strings.Join(l, "\t"))
	}
	tw.Flush()
}
