package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/core/runner"
	"github.com/ebmflow/ebmflow/internal/testplugins"
)

// observePipeline has two diagnostics stages: "first" asks for the
// iteration's tensors, "second" does not and sees first's metrics.
const observePipeline = `
variable "short_by" {
  type    = number
  default = 0
}
schedule "lr" {
  type    = "constant"
  initial = 0.05
}
stage "energy" {
  plugin  = "testenergy"
  a       = 1.5
  epsilon = 0.1
}
stage "sampler" {
  plugin  = "testsampler"
  energy  = stage.energy
  epsilon = 0.1
  steps   = 3
}
stage "data" {
  plugin   = "testdata"
  mean     = 0
  sd       = 0.01 # at the energy's minimum: d_st < 0
  short_by = var.short_by
}
stage "first" {
  plugin  = "testdiag"
  tensors = true
}
stage "second" {
  plugin = "testdiag"
}
train {
  iterations   = 6
  seed         = 3
  batch        = 16
  sample_every = 3
  energy       = stage.energy
  sampler      = stage.sampler
  data         = stage.data
  diagnostics  = [stage.first, stage.second]
}
`

func readObserved(t *testing.T, path string) []testplugins.Observed {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Records []testplugins.Observed `json:"records"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Records
}

// TestObserveRecordAndTensors: every diagnostics stage receives the record
// metrics.jsonl holds (every field, the earlier stages' metrics in Extra),
// a stage that asked gets the iteration's positives and negatives, and the
// core writes summary.json with every stage's report summary.
func TestObserveRecordAndTensors(t *testing.T) {
	bin, _ := ebmflowBinary(t)
	dir := t.TempDir()
	pipe := filepath.Join(dir, "observe.hcl")
	os.WriteFile(pipe, []byte(observePipeline), 0o644)
	out := filepath.Join(dir, "run")
	if code, log := ebmflow(t, bin, "run", "-out", out, pipe); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, log)
	}
	ms := metrics(t, out)
	first := readObserved(t, filepath.Join(out, "testdiag-first.json"))
	second := readObserved(t, filepath.Join(out, "testdiag-second.json"))
	if len(ms) != 6 || len(first) != 6 || len(second) != 6 {
		t.Fatalf("%d metrics, %d and %d records observed", len(ms), len(first), len(second))
	}
	for i, m := range ms {
		a, b := first[i], second[i]
		if a.T != m.T || a.LR != m.LR || a.DST != m.DST || a.R != m.R || a.MeanPos != m.MeanPos || a.MeanNeg != m.MeanNeg ||
			a.GradNorm != m.GradNorm || a.Wall != m.Wall || a.GradNorm == 0 || a.Wall == 0 {
			t.Errorf("iteration %d: observed %+v, metrics %+v", m.T, a.Record, m)
		}
		if len(a.PosShape) != 2 || a.PosShape[0] != 16 || a.PosShape[1] != 2 || len(a.NegShape) != 2 || a.NegShape[0] != 16 || a.PosSum == 0 || a.NegSum == 0 {
			t.Errorf("iteration %d: first got tensors %v (sum %v) and %v (sum %v)", m.T, a.PosShape, a.PosSum, a.NegShape, a.NegSum)
		}
		if b.PosShape != nil || b.NegShape != nil {
			t.Errorf("iteration %d: second got tensors it did not ask for", m.T)
		}
		if a.Extra["first.records"] != 0 || b.Extra["first.records"] != float64(i+1) || m.Extra["second.records"] != float64(i+1) {
			t.Errorf("iteration %d: extra seen by first %v, by second %v, in metrics %v", m.T, a.Extra, b.Extra, m.Extra)
		}
	}
	// Events are written with their stage: testdiag warns at the first
	// negative d_st.
	neg := 0
	for _, m := range ms {
		if m.DST < 0 && neg == 0 {
			neg = m.T
		}
	}
	ev, _ := os.ReadFile(filepath.Join(out, runner.EventsFile))
	for _, stage := range []string{"first", "second"} {
		want := `{"stage":"` + stage + `","t":` + strconv.Itoa(neg) + `,"level":"warn","message":"d_st went negative"}`
		if neg > 0 && !strings.Contains(string(ev), want) {
			t.Errorf("events.jsonl lacks %s:\n%s", want, ev)
		}
	}
	if neg == 0 {
		t.Errorf("d_st never negative: no event to check")
	}
	s, err := runner.ReadSummary(out)
	if err != nil || s.T != 6 || !s.Final || len(s.Stages) != 2 {
		t.Fatalf("summary: %v %+v", err, s)
	}
}

// TestShortBatchNamesDataStage: a data stage returning fewer rows than
// asked for stops the run with an error naming it.
func TestShortBatchNamesDataStage(t *testing.T) {
	bin, _ := ebmflowBinary(t)
	dir := t.TempDir()
	pipe := filepath.Join(dir, "observe.hcl")
	os.WriteFile(pipe, []byte(observePipeline), 0o644)
	code, log := ebmflow(t, bin, "run", "-out", filepath.Join(dir, "run"), "-var", "short_by=1", pipe)
	if code != 2 || !strings.Contains(log, `stage "data" returned positives of shape [15 2] for a request of 16 samples of shape [2]`) {
		t.Fatalf("exit %d\n%s", code, log)
	}
}
