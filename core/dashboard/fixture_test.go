package dashboard

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebmflow/ebmflow/core/pipeline"
	"github.com/ebmflow/ebmflow/core/runner"
)

// writeRun makes a run folder dir with a manifest planning planned
// iterations with vars, and n lines of metrics.jsonl (d_st a damped
// oscillation, r_t around 0.1, a diagnostics TV every 10 iterations).
func writeRun(t testing.TB, dir string, planned, n int, vars map[string]string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	m := runner.Manifest{Created: time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC), Variables: vars, Seed: 7, Train: &pipeline.Train{Iterations: planned}}
	m.Pipeline.Path = "pipelines/toy.hcl"
	m.Pipeline.Source = "train {}\n"
	b, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := 1; i <= n; i++ {
		f.WriteString(metricLine(i))
	}
}

// metricLine is iteration i's line as the runner writes it.
func metricLine(i int) string {
	x := float64(i)
	line := fmt.Sprintf(`{"t":%d,"lr":%g,"d_st":%g,"r_t":%g,"mean_f_pos":%g,"mean_f_neg":%g,"grad_norm":%g,"wall_seconds":%g`,
		i, 0.1*math.Pow(0.9999, x), math.Sin(x/50)*math.Exp(-x/1e5), 0.1+0.01*math.Cos(x/7), 1/x, 1/x+0.01, 0.5+0.1*math.Sin(x), 0.02*x)
	if i%10 == 0 {
		line += fmt.Sprintf(`,"extra":{"diag.tv_ebm":%g,"diag.tv_floor":0.12}`, 0.6*math.Exp(-x/1e4)+0.1)
	}
	return line + "}\n"
}

// writeStatus writes status.json.
func writeStatus(t testing.TB, dir string, st runner.Status) {
	t.Helper()
	b, _ := json.Marshal(st)
	if err := os.WriteFile(filepath.Join(dir, runner.StatusFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// serve starts a dashboard over dirs.
func serve(t testing.TB, dirs ...string) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(Options{Dirs: dirs})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(func() { hs.Close(); s.Close() })
	return s, hs
}

// get fetches url and decodes its JSON into v (when not nil); it returns
// the status code and body.
func get(t testing.TB, url string, v any) (int, string) {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if v != nil && r.StatusCode == http.StatusOK {
		if err := json.Unmarshal([]byte(sb.String()), v); err != nil {
			t.Fatalf("%s: %v", url, err)
		}
	}
	return r.StatusCode, sb.String()
}

// byName indexes a run list by run name.
func byName(l RunList) map[string]RunInfo {
	out := map[string]RunInfo{}
	for _, r := range l.Runs {
		out[r.Name] = r
	}
	return out
}
