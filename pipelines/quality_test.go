package pipelines_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/core/runner"
)

// TestImageQualityEndToEnd: a tiny MNIST run with the image quality
// diagnostic every 2 iterations reports MMD^2 of its short-run samples to
// held-out test digits, its noise floor and the saturated fractions in
// metrics.jsonl, report.json and summary.json, the same numbers in all
// three; a rerun gives the same numbers; and `ebmflow sample` on its
// checkpoint writes one quality.jsonl line per chunk and shows them in its
// progress lines.
func TestImageQualityEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ebmflow and the plugins and runs a tiny MNIST pipeline")
	}
	bin := buildAll(t)
	dir := t.TempDir()
	src := fmt.Sprintf(strings.Replace(observeMNIST, "checkpoint_every = 0", "checkpoint_every = 3", 1), qualityStage("q", 2, ""), 6, "stage.q")
	pipe := filepath.Join(dir, "tiny.hcl")
	os.WriteFile(pipe, []byte(src), 0o644)
	out := filepath.Join(dir, "run")
	if log, err := exec.Command(filepath.Join(bin, "ebmflow"), "run", "-out", out, pipe).CombinedOutput(); err != nil {
		t.Fatalf("run: %v\n%s", err, log)
	}
	ms, err := runner.ReadMetrics(filepath.Join(out, "metrics.jsonl"))
	if err != nil || len(ms) != 6 {
		t.Fatalf("metrics: %v (%d lines)", err, len(ms))
	}
	names := []string{"mmd2_samples", "mmd2_floor", "mmd2_floor_sd", "sat_samples", "beyond_samples", "sat_data"}
	for _, m := range ms {
		for _, k := range names {
			v, ok := m.Extra["q."+k]
			if ok != (m.T%2 == 0) {
				t.Fatalf("t = %d: q.%s present %v", m.T, k, ok)
			}
			// MNIST at 28 pixels: most pixels are background at -1.
			if k == "sat_data" && ok && (v < 0.5 || v > 0.95) {
				t.Errorf("t = %d: sat_data = %v", m.T, v)
			}
		}
	}
	last := ms[5].Extra
	// 3-step samples from noise are far from digits: well above the floor.
	if last["q.mmd2_samples"] < last["q.mmd2_floor"]+5*last["q.mmd2_floor_sd"] {
		t.Errorf("3-step samples as good as held-out digits: %v", last)
	}
	var rep struct {
		Metrics map[string]float64 `json:"metrics"`
		Quality struct {
			T int `json:"t"`
		} `json:"quality"`
	}
	b, _ := os.ReadFile(filepath.Join(out, "report.json"))
	if err := json.Unmarshal(b, &rep); err != nil || rep.Quality.T != 6 {
		t.Fatalf("report.json: %v, %s", err, b)
	}
	sum, err := runner.ReadSummary(out)
	if err != nil || !strings.Contains(string(sum.Stages["q"]), `"mmd2_samples"`) {
		t.Fatalf("summary.json: %v", err)
	}
	for _, k := range names {
		if rep.Metrics[k] != last["q."+k] {
			t.Errorf("report.json %s = %v, metrics.jsonl %v", k, rep.Metrics[k], last["q."+k])
		}
	}
	// Deterministic: a second run gives the same numbers.
	out2 := filepath.Join(dir, "run2")
	if log, err := exec.Command(filepath.Join(bin, "ebmflow"), "run", "-out", out2, pipe).CombinedOutput(); err != nil {
		t.Fatalf("rerun: %v\n%s", err, log)
	}
	ms2, _ := runner.ReadMetrics(filepath.Join(out2, "metrics.jsonl"))
	for i := range ms {
		for _, k := range names {
			if ms2[i].Extra["q."+k] != ms[i].Extra["q."+k] {
				t.Fatalf("t = %d: q.%s %v, then %v", i+1, k, ms[i].Extra["q."+k], ms2[i].Extra["q."+k])
			}
		}
	}

	long := filepath.Join(dir, "long")
	cmd := exec.Command(filepath.Join(bin, "ebmflow"), "sample", "-steps", "6", "-every", "3", "-n", "20", "-init", "uniform", "-out", long, out)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sample: %v\n%s", err, stderr.String())
	}
	if n := strings.Count(stderr.String(), "MMD^2 "); n != 2 {
		t.Errorf("%d progress lines with MMD^2:\n%s", n, stderr.String())
	}
	f, err := os.Open(filepath.Join(long, "quality.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var steps []int
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var l struct {
			Step      int      `json:"step"`
			MMD2      *float64 `json:"mmd2_samples"`
			Floor     float64  `json:"mmd2_floor"`
			Sat       float64  `json:"sat_samples"`
			SatData   float64  `json:"sat_data"`
			Reference int      `json:"reference"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		if l.MMD2 == nil || l.Reference != 1000 || l.SatData < 0.5 || l.Sat < 0 || l.Sat > 1 {
			t.Errorf("quality line %s", sc.Bytes())
		}
		steps = append(steps, l.Step)
	}
	if fmt.Sprint(steps) != "[3 6]" {
		t.Errorf("quality.jsonl steps %v, want [3 6]", steps)
	}
}
