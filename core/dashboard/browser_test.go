package dashboard

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds Debian's chromium (or $EBMFLOW_CHROMIUM).
func chromium() string {
	for _, p := range []string{os.Getenv("EBMFLOW_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	return ""
}

// TestBrowser drives headless Chromium over real runs of the real
// ebmflow and plugins: a finished run, a sweep of two points and a run
// training while the test watches. It loads the run list, opens the
// finished run and the live one (whose charts must gain points without a
// reload), compares the sweep's points and saves screenshots into the
// test's artifact folder (go test -artifacts keeps them).
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ebmflow and the plugins, trains three runs and drives Chromium")
	}
	browser := chromium()
	if browser == "" {
		t.Skip("no Chromium: install Debian's chromium (apt-get install chromium) or set EBMFLOW_CHROMIUM")
	}
	start := time.Now()
	work := t.TempDir()
	bin := filepath.Join(work, "bin")
	if out, err := exec.Command("go", "build", "-o", bin+"/", "../../cmd/ebmflow", "../../plugins/...").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built in %s", time.Since(start).Round(time.Millisecond))
	ebmflow := filepath.Join(bin, "ebmflow")
	for _, p := range []string{"ci.hcl", "toy-gmm.hcl"} {
		b, err := os.ReadFile(filepath.Join("../../pipelines", p))
		must(t, err)
		must(t, os.WriteFile(filepath.Join(work, p), b, 0o644))
	}
	must(t, os.WriteFile(filepath.Join(work, "modes.hcl"), []byte("sweep {\n  name = \"modes\"\n  grid {\n    mode = [\"convergent\", \"nonconvergent\"]\n  }\n}\n"), 0o644))
	root := filepath.Join(work, "served")
	small := []string{"-var", "steps=20", "-var", "sample_every=20", "-var", "density_every=20", "-var", "checkpoint_every=1000"}
	run := func(args ...string) *exec.Cmd {
		c := exec.Command(ebmflow, args...)
		c.Dir = work
		return c
	}
	// The finished run and the sweep train side by side; the live run starts after.
	done := make(chan error, 2)
	for _, c := range []*exec.Cmd{
		run("run", "-log-level", "warn", "-out", filepath.Join(root, "runs", "ci"), "ci.hcl"),
		run(append(append([]string{"sweep", "run", "-parallel", "2", "-sweep", "modes.hcl", "-var", "iterations=60"}, small...), "-out", filepath.Join(root, "sweeps", "modes"), "toy-gmm.hcl")...),
	} {
		go func() {
			out, err := c.CombinedOutput()
			if err != nil {
				err = fmt.Errorf("%s: %w\n%s", strings.Join(c.Args, " "), err, out)
			}
			done <- err
		}()
	}
	for range 2 {
		must(t, <-done)
	}
	t.Logf("trained the finished run and the sweep after %s", time.Since(start).Round(time.Millisecond))
	// The live run's pipeline sets an r_t band for its diagnostics.
	b, err := os.ReadFile(filepath.Join(work, "toy-gmm.hcl"))
	must(t, err)
	banded := strings.Replace(string(b), "density_every = var.density_every", "density_every = var.density_every\n  r_band        = [0.008, 0.012]", 1)
	must(t, os.WriteFile(filepath.Join(work, "banded.hcl"), []byte(banded), 0o644))
	live := run(append(append([]string{"run", "-log-level", "warn", "-var", "iterations=100000"}, small...), "-out", filepath.Join(root, "runs", "live"), "banded.hcl")...)
	must(t, live.Start())
	liveDone := make(chan error, 1)
	go func() { liveDone <- live.Wait() }()
	defer func() {
		live.Process.Signal(syscall.SIGTERM)
		<-liveDone
	}()

	_, hs := serve(t, root)
	ctx, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1400, 1000))...)
	defer cancel()
	ctx, cancel = chromedp.NewContext(ctx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		must(t, err)
		path := filepath.Join(t.ArtifactDir(), name+".png")
		must(t, os.WriteFile(path, png, 0o644))
		t.Logf("screenshot %s after %s", path, time.Since(start).Round(time.Millisecond))
	}
	waitLines(t, filepath.Join(root, "runs", "live", "metrics.jsonl"), 40)

	// The run list: four runs (two of the sweep), the live one running.
	do(chromedp.Navigate(hs.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`a[href="#/run/0%2Fruns%2Flive"]`)))
	states := eval[string](t, ctx, `[...document.querySelectorAll("tbody tr")].map(r => r.children[1].textContent + "=" + (r.querySelector(".state")||{}).textContent).join(" ")`)
	shot("list")
	for _, want := range []string{"runs/ci=finished", "runs/live=running", "sweeps/modes/runs/0-mode_convergent=finished", "sweeps/modes/runs/1-mode_nonconvergent=finished"} {
		if !strings.Contains(states, want) {
			t.Errorf("run list %q lacks %q", states, want)
		}
	}

	// A finished run: every core metric charted with all its points, the
	// sample grids and the diagnostics figure loaded, the manifest shown.
	do(chromedp.Navigate(hs.URL+"/#/run/"+url.PathEscape("0/runs/ci")),
		chromedp.WaitVisible(chromedp.CSS(`[data-metric="d_st"] canvas`)),
		chromedp.Poll[chromedp.Void](`[...document.images].filter(i => i.complete && i.naturalWidth > 0).length >= 3`))
	points := eval[map[string]string](t, ctx, `Object.fromEntries([...document.querySelectorAll("[data-metric]")].map(b => [b.dataset.metric, b.dataset.points]))`)
	imgs := eval[int](t, ctx, `[...document.images].filter(i => i.naturalWidth > 0).length`)
	verdict := eval[string](t, ctx, `document.querySelector(".verdict").textContent`)
	pipe := eval[string](t, ctx, `document.querySelector("pre").textContent`)
	// The samples' slider goes back to the first grids (iteration 30); the
	// density figures have a slider of their own.
	first30 := eval[string](t, ctx, `(() => { const s = document.querySelector('input[type=range]'); s.value = 0; s.dispatchEvent(new Event('input')); return document.querySelector('.slider-t').textContent; })()`)
	if !strings.Contains(first30, "t = 30 (1 of 2)") {
		t.Errorf("samples slider at its start: %q", first30)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('img[alt^="density"]').length`); n != 1 {
		t.Errorf("%d density figures shown, want the one of the slider", n)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('input[type=range]').length`); n != 2 {
		t.Errorf("%d sliders, want samples and density", n)
	}
	shot("finished-run")
	do(chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll("h2")].find(h => h.textContent === "Samples").scrollIntoView()`))
	shot("finished-run-figures")
	do(chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	for _, m := range []string{"d_st", "r_t", "mean_f_pos", "mean_f_neg", "grad_norm", "lr"} {
		if first(points[m]) != 60 {
			t.Errorf("chart %s has %q points, want 60", m, points[m])
		}
	}
	if first(points["diagnostics.tv_ebm"]) == 0 {
		t.Errorf("the diagnostics stage's TV has no points: %v", points)
	}
	if verdict == "" || !strings.Contains(pipe, `stage "sampler"`) || imgs < 3 {
		t.Errorf("verdict %q, %d images, pipeline text %.40q", verdict, imgs, pipe)
	}

	// Zoom: a drag across d_st fetches that range for every chart; a
	// double click goes back to the whole run.
	box := eval[map[string]float64](t, ctx, `(() => { const r = document.querySelector('[data-metric="d_st"] .u-over').getBoundingClientRect(); return {x: r.x, y: r.y, w: r.width, h: r.height}; })()`)
	x1, x2, y := box["x"]+0.3*box["w"], box["x"]+0.6*box["w"], box["y"]+box["h"]/2
	do(chromedp.MouseEvent(chromedp.MouseMoved, x1, y),
		chromedp.MouseEvent(chromedp.MousePressed, x1, y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.MouseEvent(chromedp.MouseMoved, (x1+x2)/2, y, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseMoved, x2, y, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseReleased, x2, y, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.Poll[chromedp.Void](`+document.querySelector('[data-metric="r_t"]').dataset.points.split(",")[0] < 40`))
	zoomed := eval[map[string]string](t, ctx, `Object.fromEntries([...document.querySelectorAll("[data-metric]")].map(b => [b.dataset.metric, b.dataset.points]))`)
	if n := first(zoomed["d_st"]); n < 10 || n > 30 {
		t.Errorf("zoomed to 30%%..60%% of 60 iterations: d_st has %d points", n)
	}
	do(chromedp.DoubleClick(chromedp.CSS(`[data-metric="d_st"] .u-over`)),
		chromedp.Poll[chromedp.Void](`+document.querySelector('[data-metric="r_t"]').dataset.points.split(",")[0] === 60`))

	// The live run: its charts gain points without a reload; r_t shows the
	// band set in the pipeline.
	const dst = `+document.querySelector('[data-metric="d_st"]').dataset.points.split(",")[0]`
	do(chromedp.Navigate(hs.URL+"/#/run/"+url.PathEscape("0/runs/live")), chromedp.WaitVisible(chromedp.CSS(`[data-metric="d_st"] canvas`)))
	before := eval[int](t, ctx, `window.__sameDocument = 7; `+dst)
	do(chromedp.Poll[chromedp.Void](fmt.Sprintf(`%s > %d + 20`, dst, before), chromedp.WithPollingTimeout(30*time.Second)))
	after := eval[int](t, ctx, dst)
	marker := eval[int](t, ctx, `window.__sameDocument`)
	iter := eval[string](t, ctx, `document.querySelector("#iteration").textContent`)
	shot("live-run")
	if rt := eval[string](t, ctx, `document.querySelector('[data-metric="r_t"]').dataset.points`); strings.Count(rt, ",") != 2 {
		t.Errorf("r_t chart series %q: want r_t and the band's two edges", rt)
	}
	if after <= before || marker != 7 {
		t.Errorf("live chart: %d points, then %d (same page: %v)", before, after, marker == 7)
	}
	if n, _ := strconv.Atoi(iter); n < after {
		t.Errorf("the page says iteration %q with %d points", iter, after)
	}

	// The comparison of the sweep's points, labelled by their variable,
	// then switched to another metric with the picker.
	do(chromedp.Navigate(hs.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`a[href^="#/compare?"]`)),
		chromedp.Click(chromedp.CSS(`a[href^="#/compare?"]`)), chromedp.WaitVisible(chromedp.CSS(`#compare-chart canvas`)))
	legend := eval[string](t, ctx, `document.querySelector("#compare-chart .u-legend").textContent`)
	if !strings.Contains(legend, "mode=convergent") || !strings.Contains(legend, "mode=nonconvergent") || strings.Contains(legend, `"`) {
		t.Errorf("comparison legend %q", legend)
	}
	do(chromedp.Evaluate[chromedp.Void](`const m = document.querySelector("#metric"); m.value = "r_t"; m.dispatchEvent(new Event("change"))`),
		chromedp.Poll[chromedp.Void](`(document.querySelector("#compare-chart .u-title")||{}).textContent === "r_t"`))
	if got := eval[string](t, ctx, `document.querySelector("#compare-chart").dataset.points`); got != "60,60" {
		t.Errorf("compared r_t: %q points per run, want 60,60", got)
	}
	shot("compare")
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// first reads the first number of a data-points list.
func first(s string) int {
	n, _ := strconv.Atoi(strings.Split(s, ",")[0])
	return n
}

// waitLines waits until path has n lines.
func waitLines(t *testing.T, path string, n int) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		c := 0
		for sc := bufio.NewScanner(f); sc.Scan(); {
			c++
		}
		f.Close()
		if c >= n {
			return
		}
	}
	t.Fatalf("%s did not reach %d lines", path, n)
}
