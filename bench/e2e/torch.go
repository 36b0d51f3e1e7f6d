package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// python is the interpreter with torch: Debian's python3-torch.
const python = "/usr/bin/python3"

// torchEnv is glibc's malloc tuning without which PyTorch returns its
// buffers to the system after every op and is much slower here; ebmflow
// keeps its buffers anyway. Only the PyTorch side runs with it.
var torchEnv = []string{"MALLOC_MMAP_THRESHOLD_=33554432", "MALLOC_TRIM_THRESHOLD_=17179869184"}

// torchResult is what torch_loop.py prints.
type torchResult struct {
	SecPerIter float64 `json:"seconds_per_iteration"`
	CPUPercent float64 `json:"cpu_percent"`
	Threads    int     `json:"threads"`
	Torch      string  `json:"torch"`
}

// torchScript returns the path of torch_loop.py and PyTorch's version, or
// an error saying why the PyTorch side cannot run.
func torchScript() (string, string, error) {
	out, err := exec.Command(python, "-c", "import torch; print(torch.__version__)").Output()
	if err != nil {
		return "", "", fmt.Errorf("%s cannot import torch (Debian: apt-get install python3-torch): %w", python, err)
	}
	script := filepath.Join("bench", "e2e", "torch_loop.py")
	if _, file, _, ok := runtime.Caller(0); ok {
		if p := filepath.Join(filepath.Dir(file), "torch_loop.py"); fileExists(p) {
			script = p
		}
	}
	if !fileExists(script) {
		return "", "", fmt.Errorf("torch_loop.py not found (run from the repository root)")
	}
	return script, strings.TrimSpace(string(out)), nil
}

// runTorch runs torch_loop.py for one workload at the given thread count.
func runTorch(script, workload string, threads, warmup, iterations int, extra []string) (*torchResult, error) {
	args := append([]string{script, workload, "--iterations", strconv.Itoa(iterations),
		"--warmup", strconv.Itoa(warmup), "--threads", strconv.Itoa(threads)}, extra...)
	cmd := exec.Command(python, args...)
	cmd.Env = append(os.Environ(), torchEnv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w: %s", python, strings.Join(args, " "), err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var r torchResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return nil, fmt.Errorf("torch_loop.py output %q: %w", lines[len(lines)-1], err)
	}
	if r.Threads != threads {
		return nil, fmt.Errorf("torch_loop.py ran %d threads, asked for %d", r.Threads, threads)
	}
	return &r, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
