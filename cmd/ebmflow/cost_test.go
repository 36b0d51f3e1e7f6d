package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCostMatchesTheRun validates and then runs the golden cost pipeline
// (testdata/validate/cost.txt): the draws validate counts for the
// diagnostics stage are the chains it drew in the run, and validate -json
// gives the same totals as the text.
func TestCostMatchesTheRun(t *testing.T) {
	bin, _ := ebmflowBinary(t)
	src, _, _ := strings.Cut(readFile(t, "testdata/validate/cost.txt"), expectSep)
	dir := t.TempDir()
	pipe := filepath.Join(dir, "cost.hcl")
	if err := os.WriteFile(pipe, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := ebmflow(t, bin, "validate", "-json", pipe)
	var v struct {
		Valid bool `json:"valid"`
		Cost  struct {
			PerIteration float64 `json:"per_iteration"`
			Run          float64 `json:"run"`
			Iterations   int     `json:"iterations"`
			Terms        []struct {
				Stage   string  `json:"stage"`
				Run     float64 `json:"run"`
				Average bool    `json:"average"`
			} `json:"terms"`
		} `json:"cost"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != 0 || !v.Valid {
		t.Fatalf("validate -json: exit %d, %v\n%s", code, err, out)
	}
	c := v.Cost
	if c.PerIteration != 5120 || c.Run != 51200 || c.Iterations != 10 || len(c.Terms) != 2 ||
		c.Terms[0].Stage != "sampler" || c.Terms[0].Run != 50000 || c.Terms[0].Average ||
		c.Terms[1].Stage != "diag" || c.Terms[1].Run != 1200 || !c.Terms[1].Average {
		t.Fatalf("cost %+v", c)
	}
	run := filepath.Join(dir, "run")
	if code, log := ebmflow(t, bin, "run", "-out", run, pipe); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, log)
	}
	ms := metrics(t, run)
	// 1,200 image-steps at 50 steps per chain: 24 chains drawn.
	if len(ms) != 10 || ms[9].Extra["diag.drawn"] != c.Terms[1].Run/50 {
		t.Fatalf("%d records, the last drew %v chains in all, want %v", len(ms), ms[len(ms)-1].Extra, c.Terms[1].Run/50)
	}
}
