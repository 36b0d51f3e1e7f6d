package main

import (
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/ebmflow/ebmflow/plugins/data-mnist/mnist"
)

// workload is one side-by-side comparison: a shipped pipeline shrunk by
// -var, and the same loop in torch_loop.py.
type workload struct {
	name     string
	about    string
	pipeline string
	steps    int   // Langevin steps per iteration by default
	iters    int   // timed iterations per side and round by default
	threads  []int // PyTorch thread counts by default; the fastest is compared
	// vars returns the pipeline's -var settings for n iterations of L steps.
	vars func(n, steps int) []string
	// torchArgs returns torch_loop.py's arguments after the common ones.
	torchArgs func(steps int) ([]string, error)
	// maxIters is the most iterations a run may have (0: no limit).
	maxIters int
}

func workloads() []*workload {
	// checkpoint_every = 0 and sample_every = 0 keep checkpoints and sample
	// grids out of the timed iterations (the final checkpoint comes after
	// the last one).
	return []*workload{{
		name:     "toy",
		about:    "toy-gmm.hcl convergent: ToyNet, batch 100, 500 steps, bank 10,000, SGD 0.1",
		pipeline: "pipelines/toy-gmm.hcl",
		steps:    500, iters: 25, threads: []int{1, 2},
		vars: func(n, steps int) []string {
			return []string{"mode=convergent", "iterations=" + strconv.Itoa(n), "steps=" + strconv.Itoa(steps),
				"checkpoint_every=0", "sample_every=0"}
		},
		torchArgs: func(steps int) ([]string, error) {
			return []string{"--steps", strconv.Itoa(steps)}, nil
		},
		// The diagnostics stage of toy-gmm.hcl estimates the density every
		// 1000 iterations (density_every, not a variable).
		maxIters: 999,
	}, {
		name:     "mnist",
		about:    "mnist-convergent.hcl: VanillaNet n_f 32, 32x32, batch 100, 100 steps, bank 60,000, SGD",
		pipeline: "pipelines/mnist-convergent.hcl",
		steps:    100, iters: 10, threads: []int{2},
		vars: func(n, steps int) []string {
			// the VanillaNet and the annealed rate torch_loop.py runs (the
			// pipeline's defaults are now NonlocalNet at a constant 0.01)
			return []string{"iterations=" + strconv.Itoa(n), "steps=" + strconv.Itoa(steps), "n_f=32", "batch=100",
				"checkpoint_every=0", "sample_every=0", "net=vanilla", "lr_schedule=anneal", "lr=0.05"}
		},
		torchArgs: func(steps int) ([]string, error) {
			dir, err := mnist.DefaultCacheDir()
			if err != nil {
				return nil, err
			}
			// data-mnist fills this cache on its first run; ebmflow's side
			// always runs first.
			file := filepath.Join(dir, mnist.TrainImages+".gz")
			if !fileExists(file) {
				return nil, fmt.Errorf("MNIST training images not cached at %s", file)
			}
			return []string{"--steps", strconv.Itoa(steps), "--nf", "32", "--batch", "100", "--mnist", file}, nil
		},
	}}
}
