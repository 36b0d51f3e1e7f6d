package main

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// TestNonSquareBoxFigures runs the test data stage with per-axis scales
// (its box [-4, 4] x [-1, 1]): the run's scatter figures take the box's
// shape, 4:1 drawn at the widest aspect they take, 2:1.
func TestNonSquareBoxFigures(t *testing.T) {
	bin, _ := ebmflowBinary(t)
	dir := t.TempDir()
	pipe := filepath.Join(dir, "wide.hcl")
	src := `
stage "data" {
  plugin = "testdata"
  scales = [1, 0.25]
}
stage "energy" {
  plugin = "testenergy"
}
stage "sampler" {
  plugin = "testsampler"
  energy = stage.energy
  steps  = 2
}
schedule "lr" {
  type    = "constant"
  initial = 0.01
}
train {
  iterations   = 2
  batch        = 50
  sample_every = 2
  energy       = stage.energy
  sampler      = stage.sampler
  data         = stage.data
}
`
	if err := os.WriteFile(pipe, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	if code, log := ebmflow(t, bin, "run", "-out", out, pipe); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, log)
	}
	for _, name := range []string{"positives", "negatives"} {
		f, err := os.Open(filepath.Join(out, "samples", name+"-000000002.png"))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width != 640 || cfg.Height != 355 {
			t.Errorf("%s: %d x %d (%v), want 640 x 355", name, cfg.Width, cfg.Height, err)
		}
	}
}
