package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/ebmflow/ebmflow/core/runner"
)

// ebmResult is one ebmflow run's measurement.
type ebmResult struct {
	SecPerIter float64
	// HostCPU is the ebmflow process's CPU use (all its threads, not its
	// children) from the end of iteration 1 to the end of the last, as % of
	// one core; Procs the same for each plugin process. CPUOK is false when
	// the run's log lacked the lines that mark that window.
	HostCPU float64
	Procs   map[string]float64
	CPUOK   bool
	// CPUPerIter is the CPU time of the host and all plugin processes
	// together over that window, seconds per iteration.
	CPUPerIter float64
}

// runEbmflow runs `bin run -out <tmp> -var ... pipeline` for warmup +
// iterations iterations and returns the seconds per iteration after the
// warm-up, from the wall_seconds column of the run's metrics.jsonl. The run
// folder is removed afterwards unless keep is set.
func runEbmflow(bin, pipeline string, vars []string, warmup, iterations int, keep bool) (*ebmResult, error) {
	dir, err := os.MkdirTemp("", "ebmflow-e2e-")
	if err != nil {
		return nil, err
	}
	if keep {
		fmt.Fprintf(os.Stderr, "e2e: keeping run folder %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	out := filepath.Join(dir, "run")
	args := []string{"run", "-out", out}
	for _, v := range vars {
		args = append(args, "-var", v)
	}
	cmd := exec.Command(bin, append(args, pipeline)...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	w := &cpuWindow{host: cmd.Process.Pid, last: warmup + iterations}
	tail := w.watch(stderr)
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("%s %s: %w\n%s", bin, strings.Join(cmd.Args[1:], " "), err, tail)
	}
	ms, err := runner.ReadMetrics(filepath.Join(out, "metrics.jsonl"))
	if err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	wall := map[int]float64{0: 0} // wall_seconds counts from the start of training
	for _, m := range ms {
		wall[m.T] = m.Wall
	}
	a, okA := wall[warmup]
	b, okB := wall[warmup+iterations]
	if !okA || !okB {
		return nil, fmt.Errorf("%s: no iteration %d or %d among %d lines", out, warmup, warmup+iterations, len(ms))
	}
	r := &ebmResult{SecPerIter: (b - a) / float64(iterations)}
	if w.err != nil {
		return nil, fmt.Errorf("cpu sampling: %w", w.err)
	}
	if w.start != nil && w.end != nil {
		r.HostCPU, r.Procs = cpuPercent(*w.start, *w.end)
		r.CPUOK = true
		total := w.end.Host - w.start.Host
		for name, c := range w.end.Procs {
			total += c - w.start.Procs[name]
		}
		r.CPUPerIter = total / float64(w.last-1)
	}
	return r, nil
}

// cpuWindow watches the run's log (zerolog JSON lines on stderr) for the
// progress lines {"message":"training","t":N}: ebmflow logs one after the
// first iteration and one after the last. On the first it finds the plugin
// processes (children of the host) and reads every process's CPU time; on
// the last it reads them again. Nothing polls in between.
type cpuWindow struct {
	host, last int
	kids       map[int]string
	start, end *snapshot
	err        error
}

// watch reads r to its end and returns the last lines of the log, for
// error messages.
func (w *cpuWindow) watch(r io.Reader) string {
	var tail []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		w.line(line)
		if tail = append(tail, line); len(tail) > 20 {
			tail = tail[1:]
		}
	}
	return strings.Join(tail, "\n")
}

// line handles one log line.
func (w *cpuWindow) line(line string) {
	var l struct {
		Message string `json:"message"`
		T       *int   `json:"t"`
	}
	if json.Unmarshal([]byte(line), &l) != nil || l.Message != "training" || l.T == nil || w.err != nil {
		return
	}
	switch {
	case *l.T == 1 && w.start == nil && w.last > 1:
		kids, err := children(w.host)
		if err != nil {
			w.err = err
			return
		}
		w.kids = kids
		s, err := take(w.host, kids)
		w.start, w.err = &s, err
	case *l.T == w.last && w.start != nil && w.end == nil:
		s, err := take(w.host, w.kids)
		w.end, w.err = &s, err
	}
}
