// Command e2e measures whole training iterations of ebmflow side by side
// with the same loop in PyTorch: seconds per iteration of the shipped
// pipelines run by the built bin/ebmflow and its plugin processes, against
// torch_loop.py doing the same work per iteration, and the CPU use of the
// ebmflow host process and of each plugin process meanwhile.
//
// Usage (from the repository root, after
// `go build -o bin/ ./cmd/ebmflow ./plugins/...`):
//
//	go run ./bench/e2e [-rounds 3] [-iterations K] [-warmup 2] [-only toy|mnist] [-md]
//	    [-steps L] [-toy-threads 1,2] [-mnist-threads 2] [-bin bin/ebmflow] [-keep]
//
// Two workloads:
//
//   - toy: pipelines/toy-gmm.hcl, convergent (ToyNet 2-32-64-64-64-1, the
//     8-Gaussian mixture, batch 100, 500 Langevin steps with eps 0.125 from
//     a persistent bank of 10,000 chains, SGD at 0.1), against the same loop
//     with the reference's ToyNet (1x1 convolutions) in PyTorch at 1 and at 2
//     threads; the faster thread count is compared, and the table says
//     which. 25 timed iterations per side and round by default.
//   - mnist: pipelines/mnist-convergent.hcl with -var steps=100 n_f=32
//     batch=100 (VanillaNet, 32x32, data noise 2 eps, a persistent bank of
//     60,000 chains, SGD with its annealing), against the same loop in
//     PyTorch at 2 threads on the real MNIST training images, read from the
//     file data-mnist caches (~/.cache/ebmflow/mnist). 10 timed iterations
//     per side and round by default.
//
// Each round runs ebmflow once and then PyTorch once per thread count, so
// that a change in the machine's load hits both sides alike; the table
// gives the medians over the rounds and the ratio ebmflow/PyTorch of the
// seconds per iteration (below 1: ebmflow is faster). Every run does
// -warmup untimed iterations first. ebmflow's seconds per iteration come
// from the wall_seconds column of the run's metrics.jsonl (time since
// training started, logged after each iteration), between iteration
// -warmup and the last; checkpoints and sample grids are switched off by
// -var for the timed iterations. PyTorch's come from torch_loop.py's own
// clock around its timed iterations. The PyTorch side runs under
// /usr/bin/python3 with MALLOC_MMAP_THRESHOLD_=33554432
// MALLOC_TRIM_THRESHOLD_=17179869184; ebmflow's side without them.
//
// CPU use: the harness reads utime+stime from /proc/<pid>/stat of the
// ebmflow process (its own threads, not its children) and of each plugin
// process (its children) when ebmflow logs the end of iteration 1 and again
// when it logs the end of the last, and reports the difference over the
// elapsed time as % of one core. PyTorch's CPU % is its process time over
// its timed iterations. The last two columns give the CPU seconds per
// iteration of each side (ebmflow: host and plugins together over the same
// window), a measure of work that other load on the machine disturbs less
// than wall time. uptime is printed before and after: other work on the
// machine slows both sides, PyTorch's more (one process, and OpenMP
// threads that wait for each other, against ebmflow's several processes).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
)

func main() {
	rounds := flag.Int("rounds", 3, "measure each workload this many times, the sides alternating, and print medians")
	iterations := flag.Int("iterations", 0, "timed iterations per side and round (0: 25 toy, 10 mnist)")
	warmup := flag.Int("warmup", 2, "untimed iterations before the timed ones, each side")
	steps := flag.Int("steps", 0, "Langevin steps per iteration (0: the workload's, 500 toy, 100 mnist)")
	only := flag.String("only", "", "run only this workload: toy or mnist")
	md := flag.Bool("md", false, "print the table in Markdown")
	bin := flag.String("bin", "bin/ebmflow", "the ebmflow binary, with its plugins next to it")
	toyThreads := flag.String("toy-threads", "1,2", "PyTorch thread counts for toy; the fastest is compared")
	mnistThreads := flag.String("mnist-threads", "2", "PyTorch thread counts for mnist; the fastest is compared")
	keep := flag.Bool("keep", false, "keep ebmflow's run folders (printed on stderr)")
	flag.Parse()
	if *rounds < 1 || *iterations < 0 || *warmup < 0 || *steps < 0 {
		fatal(errors.New("-rounds must be at least 1; -iterations, -warmup and -steps at least 0"))
	}
	if _, err := os.Stat(*bin); err != nil {
		fatal(fmt.Errorf("%w (build it: go build -o bin/ ./cmd/ebmflow ./plugins/...)", err))
	}
	script, version, err := torchScript()
	if err != nil {
		fatal(err)
	}
	var ws []*workload
	for _, w := range workloads() {
		if *only != "" && w.name != *only {
			continue
		}
		list := *toyThreads
		if w.name == "mnist" {
			list = *mnistThreads
		}
		if w.threads, err = parseInts(list); err != nil {
			fatal(fmt.Errorf("-%s-threads: %w", w.name, err))
		}
		ws = append(ws, w)
	}
	if len(ws) == 0 {
		fatal(fmt.Errorf("-only %q: no such workload (toy or mnist)", *only))
	}
	fmt.Printf("# ebmflow end to end vs PyTorch %s: %s, %d CPUs; %d rounds, warm-up %d iterations\n",
		version, cpuName(), runtime.NumCPU(), *rounds, *warmup)
	fmt.Printf("# PyTorch: %s %s, %s\n", python, script, strings.Join(torchEnv, " "))
	fmt.Printf("# uptime before: %s\n", uptime())
	var rows []row
	for _, w := range ws {
		n, l := w.iters, w.steps
		if *iterations > 0 {
			n = *iterations
		}
		if *steps > 0 {
			l = *steps
		}
		if w.maxIters > 0 && *warmup+n > w.maxIters {
			fatal(fmt.Errorf("%s: -warmup + -iterations is %d, at most %d", w.name, *warmup+n, w.maxIters))
		}
		r, err := measureWorkload(w, *bin, script, *rounds, *warmup, n, l, *keep)
		if err != nil {
			fatal(fmt.Errorf("%s: %w", w.name, err))
		}
		rows = append(rows, r)
	}
	printTable(rows, *md)
	fmt.Printf("# uptime after: %s\n", uptime())
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a list of positive integers", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// uptime returns the output of uptime(1), or the load average from
// /proc/loadavg if uptime is missing.
func uptime() string {
	if out, err := exec.Command("uptime").Output(); err == nil {
		return strings.TrimSpace(string(out))
	}
	b, _ := os.ReadFile("/proc/loadavg")
	return "load average " + strings.TrimSpace(string(b))
}

// cpuName returns the model name from /proc/cpuinfo, or GOARCH.
func cpuName() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "e2e:", err)
	os.Exit(1)
}
