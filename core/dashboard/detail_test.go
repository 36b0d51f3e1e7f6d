package dashboard

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunDetail: a run's page gets its events, the r_t band and verdict
// of summary.json, the sample grids by kind and iteration and the density
// figures in order.
func TestRunDetail(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "r")
	writeRun(t, dir, 100, 100, nil)
	events := `{"stage":"diag","t":40,"level":"warn","message":"r_t left its band"}` + "\n" +
		`{"stage":"diag","t":80,"level":"info","message":"class: weak"}` + "\n"
	must(t, os.WriteFile(filepath.Join(dir, "events.jsonl"), []byte(events), 0o644))
	summary := `{"t":100,"final":true,"stages":{"diag":{"verdict":"weak","window":{"r_t":{"band":[0.08,0.15]}},"density":{"t":100,"tv_ebm":0.31}}}}`
	must(t, os.WriteFile(filepath.Join(dir, "summary.json"), []byte(summary), 0o644))
	for _, d := range []string{"samples", "density"} {
		must(t, os.MkdirAll(filepath.Join(dir, d), 0o755))
	}
	for _, f := range []string{"samples/negatives-000000100.png", "samples/negatives-000000050.png", "samples/positives-000000050.png",
		"density/density-000000100.png", "density/density-000000050.png", "samples/notes.txt", "diagnostics.png"} {
		must(t, os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644))
	}
	_, hs := serve(t, root)
	var d RunDetail
	if code, body := get(t, hs.URL+"/api/run?id=0/r", &d); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	if len(d.Events) != 2 || !strings.Contains(string(d.Events[0]), "left its band") {
		t.Errorf("events %s", d.Events)
	}
	if d.Band == nil || *d.Band != [2]float64{0.08, 0.15} || d.Info.Verdict != "weak" || d.Info.Last["tv"] == 0 {
		t.Errorf("band %v, verdict %q, last %v", d.Band, d.Info.Verdict, d.Info.Last)
	}
	neg, pos := d.Samples["negatives"], d.Samples["positives"]
	if len(neg) != 2 || neg[0].T != 50 || neg[1].T != 100 || neg[1].Path != "samples/negatives-000000100.png" || len(pos) != 1 || len(d.Samples) != 2 {
		t.Errorf("samples %+v", d.Samples)
	}
	if len(d.Density) != 2 || d.Density[0].T != 50 || len(d.Figures) != 1 || d.Figures[0].Path != "diagnostics.png" {
		t.Errorf("density %+v, figures %+v", d.Density, d.Figures)
	}
	if d.Manifest == nil || d.Manifest.Train.Iterations != 100 {
		t.Errorf("manifest %+v", d.Manifest)
	}
}
