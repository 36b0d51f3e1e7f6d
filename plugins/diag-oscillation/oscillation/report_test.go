package oscillation

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// decodePNG checks that the file is a PNG of the given pixel size.
func decodePNG(t *testing.T, path string, w, h int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("%s: %dx%d pixels, want %dx%d", path, b.Dx(), b.Dy(), w, h)
	}
}

func TestReportFiles(t *testing.T) {
	dir := t.TempDir()
	p := configured(t, newConfig(t, dir, nil))
	// 6000 records: longer than PlotPoints, so the time series are decimated.
	observeAll(t, p, records(1, ar1(6000, -0.6, 21), nil, 3))
	rep, err := p.Report(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{FigureFile, ReportFile}
	if len(rep.Files) != len(want) || rep.Files[0] != want[0] || rep.Files[1] != want[1] {
		t.Errorf("files %v, want %v", rep.Files, want)
	}
	decodePNG(t, filepath.Join(dir, FigureFile), FigureWidth, FigureHeight)
	b, err := os.ReadFile(filepath.Join(dir, ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.TrimSpace(b), rep.Summary) {
		t.Error("report.json differs from the summary")
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"class", "class_code", "t", "records", "window", "options", "files"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("report.json lacks %q", k)
		}
	}
	if doc["class"] != "strong" || doc["t"] != 6000.0 {
		t.Errorf("class %v at t %v, want strong at 6000", doc["class"], doc["t"])
	}
	w := doc["window"].(map[string]any)
	for _, k := range []string{"n", "d_st", "d_st_trend", "acf_d_st", "acf_r_t", "band", "ccf", "ccf_lags", "r_t", "reason"} {
		if _, ok := w[k]; !ok {
			t.Errorf("report.json window lacks %q", k)
		}
	}
	for _, k := range []string{"mean", "median", "skewness", "frac_positive"} {
		if _, ok := w["d_st"].(map[string]any)[k]; !ok {
			t.Errorf("report.json window.d_st lacks %q", k)
		}
	}
	for _, k := range []string{"band", "frac_in", "frac_below", "frac_above", "recent_mean", "state_name", "mean"} {
		if _, ok := w["r_t"].(map[string]any)[k]; !ok {
			t.Errorf("report.json window.r_t lacks %q", k)
		}
	}
	if n := len(w["acf_d_st"].([]any)); n != 16 {
		t.Errorf("%d autocorrelations, want 16 (lags 0..15)", n)
	}
	if n := len(w["ccf"].([]any)); n != 31 {
		t.Errorf("%d cross-correlations, want 31 (lags -15..15)", n)
	}
	// No temporary files are left behind.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("run folder holds %d entries, want 2", len(ents))
	}
}

func TestReportNoRunDir(t *testing.T) {
	p := configured(t, newConfig(t, "", nil))
	rep, err := p.Report(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Files) != 0 {
		t.Errorf("files %v written without a run folder", rep.Files)
	}
	var doc ReportDoc
	if err := json.Unmarshal(rep.Summary, &doc); err != nil || doc.Class != "not_stationary" {
		t.Errorf("empty report: %v, class %q", err, doc.Class)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	ctx := context.Background()
	d := ar1(3000, -0.6, 22)
	recs := records(1, d, nil, 4)
	a := configured(t, newConfig(t, "", nil))
	observeAll(t, a, recs[:1700])
	st, err := a.SaveState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := configured(t, newConfig(t, "", nil))
	if err := b.LoadState(ctx, st); err != nil {
		t.Fatal(err)
	}
	ra, _ := a.Report(ctx, false)
	rb, _ := b.Report(ctx, false)
	if !bytes.Equal(ra.Summary, rb.Summary) {
		t.Fatal("statistics differ after load")
	}
	// Both continue identically: same metrics, events and final report.
	ma, ea := observeAll(t, a, recs[1700:])
	mb, eb := observeAll(t, b, recs[1700:])
	ja, _ := json.Marshal([]any{ma, ea})
	jb, _ := json.Marshal([]any{mb, eb})
	if !bytes.Equal(ja, jb) {
		t.Errorf("observations differ after load:\n%s\n%s", ja, jb)
	}
	ra, _ = a.Report(ctx, true)
	rb, _ = b.Report(ctx, true)
	if !bytes.Equal(ra.Summary, rb.Summary) {
		t.Error("final reports differ after load")
	}
	// A state missing a tensor is refused.
	delete(st.Tensors, tensorR)
	if err := b.LoadState(ctx, st); err == nil {
		t.Error("state without r_t history accepted")
	}
}

// TestObserveRefreshesReport pins report_every: Observe rewrites the files
// itself on every multiple of report_every.
func TestObserveRefreshesReport(t *testing.T) {
	dir := t.TempDir()
	p := New()
	cfg := &sdk.Config{Stage: "diag", RunDir: dir, Values: map[string]json.RawMessage{
		"report_every": json.RawMessage("20"), "every": json.RawMessage("10")}}
	if _, d := p.Configure(context.Background(), cfg); d.HasErrors() {
		t.Fatal(d.Err())
	}
	recs := make([]sdk.Record, 19)
	for i := range recs {
		recs[i] = sdk.Record{T: i + 1, DST: float64(i%3) - 1, R: 0.1}
	}
	if _, err := p.Observe(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ReportFile)); !os.IsNotExist(err) {
		t.Fatalf("report written before t = 20: %v", err)
	}
	if _, err := p.Observe(context.Background(), []sdk.Record{{T: 20, DST: 0.5, R: 0.1}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	var doc ReportDoc
	if err := json.Unmarshal(b, &doc); err != nil || doc.T != 20 || doc.Final {
		t.Fatalf("report.json: t=%d final=%v err=%v", doc.T, doc.Final, err)
	}
	if _, err := os.Stat(filepath.Join(dir, FigureFile)); err != nil {
		t.Fatal(err)
	}
}
