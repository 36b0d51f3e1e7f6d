// Command convnet measures the energy-convnet plugin side by side with the
// same nets in PyTorch: dF/dx image-steps/s, updates/s and peak RSS for
// VanillaNet 28x28 and 32x32 (n_f 32 and 64, batch 64, 100 and 256),
// NonlocalNet 32x32 (n_f 32, batch 64 and 100) and the 2-D toy MLP, with
// the ratios and the fraction of the machine's float32 peak each reaches.
//
// Usage (from the repository root):
//
//	go run ./bench/convnet [-seconds 3] [-rounds 1] [-peak 430] [-only REGEXP] [-md]
//	go run ./bench/convnet -only nonlocal -rounds 5   # the NonlocalNet alone
//
// With -rounds N each configuration is measured N times, ebmflow and
// PyTorch alternating, and the table gives the median of each quantity, so
// that a change in the machine's load hits both sides alike.
//
// Every configuration runs in a fresh child process (this program started
// again with -child), so that the peak RSS is that configuration's alone.
// ebmflow's side calls the plugin's Grad and Update methods in process (no
// gRPC): the numbers are the plugin's compute, as the sampler's hot path sees
// it minus the transport. The PyTorch side runs torch_bench.py under
// /usr/bin/python3 when that interpreter can import torch, with as many
// threads as GOMAXPROCS and glibc's MALLOC_MMAP_THRESHOLD_=33554432
// MALLOC_TRIM_THRESHOLD_=17179869184 (so that PyTorch keeps its buffers, as
// ebmflow does); the benchmark installs nothing and says so when torch is
// absent.
//
// Besides the wall clock, each side reports dF/dx images per second of its
// process's CPU time (user + system, all threads): on a loaded machine
// that figure moves less, and with GOMAXPROCS=1 (one thread each side) it
// compares the arithmetic alone.
//
// dF/dx costs two forward passes per image (forward and input gradient); an
// update on n positives and n negatives costs, per image, a forward pass,
// the filter gradients (one forward pass) and the input gradients of every
// layer but the first. FLOP counts are 2 x multiply-adds.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ebmflow/ebmflow/plugins/energy-convnet/convnet"
	"github.com/ebmflow/ebmflow/sdk"
)

// config is one benchmarked net and batch size.
type config struct {
	Net   string `json:"net"` // "vanilla", "nonlocal" or "toy"
	Size  int    `json:"size"`
	NF    int    `json:"nf"`
	Batch int    `json:"batch"`
}

func (c config) String() string {
	if c.Net == "toy" {
		return fmt.Sprintf("toy/n%d", c.Batch)
	}
	return fmt.Sprintf("%s%d/nf%d/n%d", c.Net, c.Size, c.NF, c.Batch)
}

// result is what a child process reports.
type result struct {
	GradImagesPerS float64 `json:"grad_images_per_s"`
	// GradImagesPerCPU is dF/dx images per second of the process's CPU
	// time (user + system, all threads): less sensitive than the wall
	// clock to other work on a shared machine.
	GradImagesPerCPU float64 `json:"grad_images_per_cpu_s"`
	UpdatesPerS      float64 `json:"updates_per_s"`
	PeakRSS          int64   `json:"peak_rss_bytes"`
	Kernel           string  `json:"kernel,omitempty"`
	Torch            string  `json:"torch,omitempty"`
}

func configs() []config {
	var cs []config
	for _, size := range []int{28, 32} {
		for _, nf := range []int{32, 64} {
			for _, n := range []int{64, 100, 256} {
				cs = append(cs, config{"vanilla", size, nf, n})
			}
		}
	}
	cs = append(cs, config{"nonlocal", 32, 32, 64}, config{"nonlocal", 32, 32, 100})
	return append(cs, config{"toy", 0, 0, 100}, config{"toy", 0, 0, 10000})
}

func main() {
	child := flag.String("child", "", "internal: run one configuration (JSON) and print its result")
	seconds := flag.Float64("seconds", 3, "minimum measuring time per quantity and side, seconds")
	peak := flag.Float64("peak", 430, "float32 peak of the machine, GFLOP/s (2-core Zen 5 with AVX-512: about 430)")
	only := flag.String("only", "", "run only configurations whose name matches this regular expression")
	md := flag.Bool("md", false, "print a Markdown table")
	rounds := flag.Int("rounds", 1, "measure each configuration this many times, the two sides alternating, and print medians")
	flag.Parse()
	if *child != "" {
		var c config
		if err := json.Unmarshal([]byte(*child), &c); err != nil {
			fatal(err)
		}
		r, err := measure(c, *seconds)
		if err != nil {
			fatal(err)
		}
		json.NewEncoder(os.Stdout).Encode(r)
		return
	}
	re, err := regexp.Compile(*only)
	if err != nil {
		fatal(err)
	}
	script, torchNote := torchScript()
	fmt.Printf("# energy-convnet vs PyTorch: %s, GOMAXPROCS %d, peak %.0f GFLOP/s, %.0f s per measurement\n",
		cpuName(), runtime.GOMAXPROCS(0), *peak, *seconds)
	fmt.Printf("# %s\n", torchNote)
	fmt.Printf("# load average before: %s\n", loadAvg())
	defer func() { fmt.Printf("# load average after: %s\n", loadAvg()) }()
	if *md {
		fmt.Println("| config | MFLOP/img dF/dx | dF/dx img/s ebmflow | torch | ratio | dF/dx img/CPU-s ebmflow | torch | ratio | % peak ebmflow | % peak torch | update/s ebmflow | torch | ratio | peak RSS MB ebmflow | torch |")
		fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	} else {
		fmt.Printf("%-22s %8s | %10s %10s %6s | %8s %8s %6s | %6s %6s | %9s %9s %6s | %8s %8s\n", "config", "MFLOP/im",
			"dFdx img/s", "torch", "ratio", "img/CPUs", "torch", "ratio", "%pk", "%pk-t", "update/s", "torch", "ratio", "RSS MB", "torch")
	}
	for _, c := range configs() {
		if !re.MatchString(c.String()) {
			continue
		}
		var ebs, pts []*result
		for r := 0; r < max(1, *rounds); r++ {
			eb, err := runChild(c, *seconds)
			if err != nil {
				fatal(fmt.Errorf("%v: %w", c, err))
			}
			ebs = append(ebs, eb)
			if script != "" {
				pt, err := runTorch(script, c, *seconds)
				if err != nil {
					fmt.Fprintf(os.Stderr, "%v: pytorch: %v\n", c, err)
					continue
				}
				pts = append(pts, pt)
			}
		}
		printRow(c, median(ebs), median(pts), *peak, *md)
	}
}

// median returns the median of each quantity of rs (nil if rs is empty).
func median(rs []*result) *result {
	if len(rs) == 0 {
		return nil
	}
	med := func(f func(*result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		sort.Float64s(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	m := *rs[0]
	m.GradImagesPerS = med(func(r *result) float64 { return r.GradImagesPerS })
	m.UpdatesPerS = med(func(r *result) float64 { return r.UpdatesPerS })
	m.GradImagesPerCPU = med(func(r *result) float64 { return r.GradImagesPerCPU })
	m.PeakRSS = int64(med(func(r *result) float64 { return float64(r.PeakRSS) }))
	return &m
}

// printRow prints one configuration's line.
func printRow(c config, eb, pt *result, peak float64, md bool) {
	gf, uf := flops(c)
	pct := func(rate, perItem float64) float64 { return 100 * rate * perItem / (peak * 1e9) }
	na := "n/a"
	tg, tu, tr, rg, ru, tp := na, na, na, na, na, na
	if pt != nil {
		tg = fmt.Sprintf("%.0f", pt.GradImagesPerS)
		tu = fmt.Sprintf("%.2f", pt.UpdatesPerS)
		tr = fmt.Sprintf("%.0f", float64(pt.PeakRSS)/1e6)
		rg = fmt.Sprintf("%.2fx", eb.GradImagesPerS/pt.GradImagesPerS)
		ru = fmt.Sprintf("%.2fx", eb.UpdatesPerS/pt.UpdatesPerS)
		tp = fmt.Sprintf("%.1f", pct(pt.GradImagesPerS, gf))
	}
	tc, rc := na, na
	if pt != nil && pt.GradImagesPerCPU > 0 {
		tc = fmt.Sprintf("%.0f", pt.GradImagesPerCPU)
		rc = fmt.Sprintf("%.2fx", eb.GradImagesPerCPU/pt.GradImagesPerCPU)
	}
	ebp := fmt.Sprintf("%.1f", pct(eb.GradImagesPerS, gf))
	ups := fmt.Sprintf("%.2f", eb.UpdatesPerS)
	if md {
		fmt.Printf("| %s | %.3g | %.0f | %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %.0f | %s |\n", c, gf/1e6,
			eb.GradImagesPerS, tg, rg, eb.GradImagesPerCPU, tc, rc, ebp, tp, ups, tu, ru, float64(eb.PeakRSS)/1e6, tr)
		return
	}
	_ = uf
	fmt.Printf("%-22s %8.3g | %10.0f %10s %6s | %8.0f %8s %6s | %6s %6s | %9s %9s %6s | %8.0f %8s\n", c, gf/1e6,
		eb.GradImagesPerS, tg, rg, eb.GradImagesPerCPU, tc, rc, ebp, tp, ups, tu, ru, float64(eb.PeakRSS)/1e6, tr)
}

// flops returns the FLOP of dF/dx per image and of one update per image
// (each update handles 2*batch images).
func flops(c config) (grad, update float64) {
	if c.Net == "nonlocal" {
		return nonlocalFlops(c.NF)
	}
	type lay struct{ in, out, k, s, p, size int }
	var ls []lay
	if c.Net == "toy" {
		d := []int{2, 32, 64, 64, 64, 1}
		for i := 0; i+1 < len(d); i++ {
			ls = append(ls, lay{d[i], d[i+1], 1, 1, 0, 1})
		}
	} else {
		last := 4
		if c.Size == 28 {
			last = 3
		}
		nf := c.NF
		ls = []lay{{1, nf, 3, 1, 1, c.Size}, {nf, 2 * nf, 4, 2, 1, 0}, {2 * nf, 4 * nf, 4, 2, 1, 0},
			{4 * nf, 8 * nf, 4, 2, 1, 0}, {8 * nf, 1, last, 1, 0, 0}}
	}
	var fwd, first float64
	s := ls[0].size
	for i, l := range ls {
		o := (s+2*l.p-l.k)/l.s + 1
		f := 2 * float64(l.out*l.in*l.k*l.k*o*o)
		fwd += f
		if i == 0 {
			first = f
		}
		s = o
	}
	return 2 * fwd, 3*fwd - first
}

// nonlocalFlops is flops for the NonlocalNet(1, nf) at 32x32. Its forward
// pass is the convolutions and linear layers (as for the vanilla net) and
// each block's attention, two products of p x q x i multiply-adds (scores
// and y, p positions, q = p/4, i = c/2 channels); the input gradient
// repeats every convolution once and the attention's products twice
// (scores' and values' gradients with respect to both operands); the
// update adds the filter gradients (one more pass of the convolutions)
// and needs no input gradient of the first layer.
func nonlocalFlops(nf int) (grad, update float64) {
	conv := func(in, out, k, s int) float64 { return 2 * float64(in*out*k*k*s*s) }
	block := func(c, s int) (convs, att float64) {
		i, p := c/2, s*s
		return 4 * conv(c, i, 1, s), 2 * 2 * float64(p*(p/4)*i)
	}
	first := conv(1, nf, 3, 32)
	c1, a1 := block(nf, 16)
	c2, a2 := block(2*nf, 8)
	convs := first + c1 + conv(nf, 2*nf, 3, 16) + c2 + conv(2*nf, 4*nf, 3, 8) + conv(4*nf*16, 8*nf, 1, 1) + conv(8*nf, 1, 1, 1)
	att := a1 + a2
	return 2*convs + 3*att, 3*convs - first + 3*att
}

// measure runs one configuration in this process.
func measure(c config, seconds float64) (*result, error) {
	ctx := context.Background()
	p := convnet.New()
	vals := map[string]any{"net": c.Net, "epsilon": 0.015}
	if c.Net != "toy" {
		vals["image_size"], vals["n_f"] = c.Size, c.NF
	}
	cfg := &sdk.Config{Stage: "energy", Seed: 1, Values: map[string]json.RawMessage{}}
	for k, v := range vals {
		b, _ := json.Marshal(v)
		cfg.Values[k] = b
	}
	shapes, d := p.Configure(ctx, cfg)
	if d.HasErrors() {
		return nil, d.Err()
	}
	shape := append([]int{c.Batch}, shapes["input"]...)
	rng := sdk.NewStream(7, "bench")
	batch := func() *sdk.Tensor {
		x := sdk.NewTensor(sdk.Float32, shape...)
		for i := range x.F32 {
			x.F32[i] = float32(2*rng.Float64() - 1)
		}
		return x
	}
	x, pos := batch(), batch()
	grad := func() error { _, _, err := p.Grad(ctx, x); return err }
	update := func() error {
		_, err := p.Update(ctx, sdk.UpdateRequest{Pos: pos, Neg: x, LR: 1e-6})
		return err
	}
	gr, gc, err := timed(grad, seconds)
	if err != nil {
		return nil, err
	}
	ur, _, err := timed(update, seconds)
	if err != nil {
		return nil, err
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return &result{GradImagesPerS: gr * float64(c.Batch), GradImagesPerCPU: gc * float64(c.Batch), UpdatesPerS: ur, PeakRSS: ru.Maxrss * 1024,
		Kernel: convnet.KernelName()}, nil
}

// timed returns calls per second of fn, and per second of the process's
// CPU time, after one warm-up call, over at least seconds and 3 calls.
func timed(fn func() error, seconds float64) (float64, float64, error) {
	if err := fn(); err != nil {
		return 0, 0, err
	}
	start, cpu0 := time.Now(), cpuSeconds()
	for calls := 1; ; calls++ {
		if err := fn(); err != nil {
			return 0, 0, err
		}
		if el := time.Since(start).Seconds(); el >= seconds && calls >= 3 {
			return float64(calls) / el, float64(calls) / (cpuSeconds() - cpu0), nil
		}
	}
}

// cpuSeconds returns the process's CPU time (user + system), seconds.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// runChild runs one configuration of the ebmflow side in a fresh process.
func runChild(c config, seconds float64) (*result, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(c)
	cmd := exec.Command(self, "-child", string(b), "-seconds", strconv.FormatFloat(seconds, 'g', -1, 64))
	return runJSON(cmd)
}

// torchScript returns the path of torch_bench.py if /usr/bin/python3 can
// import torch, and a line saying what the PyTorch side is.
func torchScript() (string, string) {
	out, err := exec.Command("/usr/bin/python3", "-c", "import torch; print(torch.__version__)").Output()
	if err != nil {
		return "", "PyTorch side skipped: /usr/bin/python3 cannot import torch (Debian: apt-get install python3-torch); nothing was installed"
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "torch_bench.py")
	if _, err := os.Stat(script); err != nil {
		script = filepath.Join("bench", "convnet", "torch_bench.py")
	}
	return script, fmt.Sprintf("PyTorch %s (/usr/bin/python3, %d threads, MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=17179869184)",
		strings.TrimSpace(string(out)), runtime.GOMAXPROCS(0))
}

// runTorch runs torch_bench.py for one configuration.
func runTorch(script string, c config, seconds float64) (*result, error) {
	cmd := exec.Command("/usr/bin/python3", script, c.Net, strconv.Itoa(c.Size), strconv.Itoa(c.NF),
		strconv.Itoa(c.Batch), strconv.FormatFloat(seconds, 'g', -1, 64), strconv.Itoa(runtime.GOMAXPROCS(0)))
	cmd.Env = append(os.Environ(), "MALLOC_MMAP_THRESHOLD_=33554432", "MALLOC_TRIM_THRESHOLD_=17179869184")
	return runJSON(cmd)
}

// runJSON runs cmd and decodes the last line of its stdout.
func runJSON(cmd *exec.Cmd) (*result, error) {
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%v: %w: %s", cmd.Args, err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var r result
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return nil, fmt.Errorf("%v: %w", cmd.Args, err)
	}
	return &r, nil
}

// cpuName returns the model name from /proc/cpuinfo, or GOARCH.
func cpuName() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v) + ", kernel " + convnet.KernelName()
			}
		}
	}
	return runtime.GOARCH + ", kernel " + convnet.KernelName()
}

// loadAvg returns the first three fields of /proc/loadavg: other work on
// the machine lowers both sides' numbers, PyTorch's OpenMP threads more.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "convnet bench:", err)
	os.Exit(1)
}
