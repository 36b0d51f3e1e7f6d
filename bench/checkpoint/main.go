// Command checkpoint measures what a checkpoint of a large stage state
// costs (issue 22): the peak memory of every process and the time to write
// and to read the checkpoint, against the disk's own sequential speed
// measured in the same run.
//
// Usage (from the repository root, after
// `go build -o bin/ ./cmd/ebmflow ./plugins/...`):
//
//	go run ./bench/checkpoint [-sizes 32,64] [-iterations 3] [-steps 2]
//	    [-batch 100] [-bin bin] [-pipeline pipelines/mnist-convergent.hcl]
//	    [-dir DIR] [-md] [-keep]
//
// For each image size it runs pipelines/mnist-convergent.hcl on all 60,000
// training images (the sampler's persistent bank holds one chain per
// image: 60,000 x size x size float32) for -iterations iterations of
// -steps Langevin steps with a checkpoint after the last (-var size,
// checkpoint_every = iterations, sample_every = 0), then resumes the run
// from that checkpoint (which loads every stage's state and ends at once).
//
// Memory: the peak resident set (VmHWM in /proc/PID/status) of the host
// and of each plugin process, read every 10 ms while the command runs; the
// value kept is the last read before the process ended (VmHWM only grows).
// Time: the host logs the seconds each checkpoint took to write ("checkpoint
// written", from the temporary folder's creation to its rename, every file
// synced) and to load ("checkpoint loaded"). Disk: before each size, a file
// as large as the bank is written in 1 MiB blocks and synced (fsync), then
// read back with O_DIRECT (bypassing the page cache), in the run's folder.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// result is one size's numbers.
type result struct {
	size            int
	bank            int64 // bytes of the sampler's bank
	ckpt            int64 // bytes of the checkpoint's files
	diskW, diskR    float64
	write, read     float64 // seconds
	run, resume     peaks
	uptimeA, uptime string
}

func main() {
	sizes := flag.String("sizes", "32,64", "image sizes, comma-separated")
	iterations := flag.Int("iterations", 3, "training iterations; the checkpoint is after the last")
	steps := flag.Int("steps", 2, "Langevin steps per iteration")
	batch := flag.Int("batch", 100, "batch size")
	bin := flag.String("bin", "bin", "folder of ebmflow and the plugins")
	pipe := flag.String("pipeline", "pipelines/mnist-convergent.hcl", "the pipeline")
	dir := flag.String("dir", "", "work folder (default: a temporary one)")
	md := flag.Bool("md", false, "print a Markdown table")
	keep := flag.Bool("keep", false, "keep the run folders")
	flag.Parse()

	work := *dir
	if work == "" {
		var err error
		if work, err = os.MkdirTemp(".", ".bench-checkpoint-"); err != nil {
			fail(err)
		}
	}
	if !*keep {
		defer os.RemoveAll(work)
	}
	ebm, err := filepath.Abs(filepath.Join(*bin, "ebmflow"))
	if err != nil {
		fail(err)
	}
	if out, err := exec.Command(ebm, "init", "-upgrade", *pipe).CombinedOutput(); err != nil {
		fail(fmt.Errorf("ebmflow init: %v\n%s", err, out))
	}
	var rs []result
	for _, f := range strings.Split(*sizes, ",") {
		size, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			fail(fmt.Errorf("-sizes: %w", err))
		}
		r := result{size: size, bank: 60000 * int64(size*size) * 4, uptimeA: uptime()}
		if r.diskW, r.diskR, err = diskSpeed(work, r.bank); err != nil {
			fail(err)
		}
		out := filepath.Join(work, fmt.Sprintf("run-%d", size))
		os.RemoveAll(out)
		args := []string{"run", "-out", out, "-log-format", "json",
			"-var", fmt.Sprintf("size=%d", size), "-var", fmt.Sprintf("iterations=%d", *iterations),
			"-var", fmt.Sprintf("steps=%d", *steps), "-var", fmt.Sprintf("batch=%d", *batch),
			"-var", fmt.Sprintf("checkpoint_every=%d", *iterations), "-var", "sample_every=0",
			"-var", "net=vanilla", *pipe} // the VanillaNet takes every size; NonlocalNet 32 only
		log, pk, err := watch(ebm, args...)
		if err != nil {
			fail(fmt.Errorf("size %d: run: %v\n%s", size, err, tail(log)))
		}
		r.run = pk
		if r.write, err = logSeconds(log, "checkpoint written"); err != nil {
			fail(fmt.Errorf("size %d: %w", size, err))
		}
		ck := filepath.Join(out, "checkpoints", fmt.Sprintf("%09d", *iterations))
		if r.ckpt, err = folderBytes(ck); err != nil {
			fail(err)
		}
		log, pk, err = watch(ebm, "run", "-resume", out, "-log-format", "json")
		if err != nil {
			fail(fmt.Errorf("size %d: resume: %v\n%s", size, err, tail(log)))
		}
		r.resume = pk
		if r.read, err = logSeconds(log, "checkpoint loaded"); err != nil {
			fail(fmt.Errorf("size %d: %w", size, err))
		}
		r.uptime = uptime()
		os.RemoveAll(out)
		rs = append(rs, r)
		if !*md {
			printText(r)
		}
	}
	if *md {
		printMarkdown(rs)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench/checkpoint:", err)
	os.Exit(1)
}

func uptime() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func tail(s string) string {
	if len(s) > 4000 {
		return s[len(s)-4000:]
	}
	return s
}

// folderBytes is the total size of the files in dir.
func folderBytes(dir string) (int64, error) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, e := range es {
		if fi, err := e.Info(); err == nil {
			n += fi.Size()
		}
	}
	return n, nil
}
