package dashboard

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebmflow/ebmflow/core/runner"
)

// TestRunStates: the list tells finished, interrupted, failed, running (a
// live process) and dead (a process gone without recording an end) from
// status.json, and judges folders without one by their metrics.
func TestRunStates(t *testing.T) {
	root := t.TempDir()
	host, _ := os.Hostname()
	boot, ticks := runner.ProcessIdentity(os.Getpid())
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	cases := map[string]*runner.Status{
		"finished":    {State: runner.StateFinished, Iteration: 50},
		"interrupted": {State: runner.StateInterrupted, Iteration: 30},
		"failed":      {State: runner.StateFailed, Error: "iteration 31: plugin crashed"},
		"running":     {State: runner.StateRunning, Host: host, PID: os.Getpid(), Boot: boot, StartTicks: ticks},
		"dead":        {State: runner.StateRunning, Host: host, PID: gone.Process.Pid, Boot: boot, StartTicks: 1},
		"stopped":     nil, // no status.json, short of its end, not written lately
	}
	for name, st := range cases {
		dir := filepath.Join(root, name)
		writeRun(t, dir, 50, 30, map[string]string{"epsilon": "0.1"})
		if st != nil {
			writeStatus(t, dir, *st)
		}
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(root, "stopped", "metrics.jsonl"), old, old)
	// A run that just started: a manifest of now, no metrics yet.
	starting := filepath.Join(root, "starting")
	writeRun(t, starting, 50, 0, nil)
	b, _ := os.ReadFile(filepath.Join(starting, "manifest.json"))
	b = []byte(strings.Replace(string(b), "2026-12-05T03:00:00Z", time.Now().UTC().Format(time.RFC3339), 1))
	must(t, os.WriteFile(filepath.Join(starting, "manifest.json"), b, 0o644))
	must(t, os.Remove(filepath.Join(starting, "metrics.jsonl")))
	_, hs := serve(t, root)
	var l RunList
	if code, body := get(t, hs.URL+"/api/runs", &l); code != 200 {
		t.Fatalf("/api/runs: %d %s", code, body)
	}
	runs := byName(l)
	if len(runs) != len(cases)+1 {
		t.Fatalf("%d runs listed, want %d: %+v", len(runs), len(cases)+1, l.Runs)
	}
	if r := runs["starting"]; r.State != "running" || len(r.Problems) != 0 {
		t.Errorf("a run starting its plugins: %q (%s), problems %q", r.State, r.Detail, r.Problems)
	}
	for name := range cases {
		r := runs[name]
		if r.State != name {
			t.Errorf("run %s: state %q (%s), want %q", name, r.State, r.Detail, name)
		}
		if r.Iteration != 30 || r.Planned != 50 || r.Pipeline != "toy" || r.Vars["epsilon"] != "0.1" {
			t.Errorf("run %s: %+v", name, r)
		}
		if r.Last["d_st"] == 0 || r.Last["r_t"] == 0 || r.Last["tv"] == 0 {
			t.Errorf("run %s: last values %v", name, r.Last)
		}
	}
}

// TestBrokenRunsShowOnThemselves: a torn last line, a malformed line, a
// missing metrics.jsonl and an unreadable summary each show as a problem
// of their own run; the others list cleanly.
func TestBrokenRunsShowOnThemselves(t *testing.T) {
	root := t.TempDir()
	for _, n := range []string{"good", "torn", "malformed", "nometrics", "badsummary"} {
		writeRun(t, filepath.Join(root, n), 20, 20, nil)
		writeStatus(t, filepath.Join(root, n), runner.Status{State: runner.StateFinished})
	}
	appendFile(t, filepath.Join(root, "torn", "metrics.jsonl"), `{"t":21,"lr":0.1,"d_`)
	ms := filepath.Join(root, "malformed", "metrics.jsonl")
	b, _ := os.ReadFile(ms)
	lines := strings.SplitAfter(string(b), "\n")
	lines[4] = "{\"t\":5,\"lr\":oops}\n"
	os.WriteFile(ms, []byte(strings.Join(lines, "")), 0o644)
	os.Remove(filepath.Join(root, "nometrics", "metrics.jsonl"))
	os.WriteFile(filepath.Join(root, "badsummary", runner.SummaryFile), []byte("{"), 0o644)
	_, hs := serve(t, root)
	var l RunList
	get(t, hs.URL+"/api/runs", &l)
	runs := byName(l)
	want := map[string]string{"good": "", "torn": "incomplete line", "nometrics": "metrics.jsonl", "badsummary": "summary.json"}
	for name, w := range want {
		p := strings.Join(runs[name].Problems, "; ")
		if (w == "") != (p == "") || !strings.Contains(p, w) {
			t.Errorf("run %s: problems %q, want one with %q", name, p, w)
		}
	}
	var m MetricsAnswer
	if code, body := get(t, hs.URL+"/api/metrics?id=0/malformed", &m); code != 200 {
		t.Fatalf("metrics of the malformed run: %d %s", code, body)
	}
	if len(m.Series.T) != 19 || len(m.Problems) != 1 || !strings.Contains(m.Problems[0], "line 5") {
		t.Errorf("malformed run: %d rows, problems %q", len(m.Series.T), m.Problems)
	}
	var d RunDetail
	if code, body := get(t, hs.URL+"/api/run?id=0/nometrics", &d); code != 200 || d.Manifest == nil {
		t.Errorf("the page of a run without metrics: %d %s", code, body)
	}
	if code, _ := get(t, hs.URL+"/api/metrics?id=0/nometrics", nil); code != 404 {
		t.Errorf("metrics of a run without metrics.jsonl: %d, want 404", code)
	}
}

func appendFile(t testing.TB, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// TestLiveReadsOnlyAppendedBytes: after the first read, a request reads
// just the bytes appended since; a half-written line waits for its end;
// a file rewritten shorter (a resumed run) is read again.
func TestLiveReadsOnlyAppendedBytes(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "live")
	writeRun(t, dir, 1000, 100, nil)
	s, hs := serve(t, root)
	var m MetricsAnswer
	get(t, hs.URL+"/api/metrics?id=0/live&points=1000", &m)
	size, _ := os.Stat(filepath.Join(dir, "metrics.jsonl"))
	if len(m.Series.T) != 100 || m.LastT != 100 || m.Read != size.Size() {
		t.Fatalf("first read: %d rows, last %v, read %d of %d bytes", len(m.Series.T), m.LastT, m.Read, size.Size())
	}
	next := metricLine(101) + metricLine(102)
	half := metricLine(103)
	var l RunList
	get(t, hs.URL+"/api/runs", &l)
	appendFile(t, filepath.Join(dir, "metrics.jsonl"), next+half[:10])
	get(t, hs.URL+"/api/runs", &l)
	if tl := s.tails[ref{0, "live"}]; tl.nread != int64(len(next)+10) || l.Runs[0].Iteration != 102 {
		t.Errorf("the run list read %d bytes after %d were appended, and says iteration %d", tl.nread, len(next)+10, l.Runs[0].Iteration)
	}
	get(t, hs.URL+"/api/metrics?id=0/live&after=100", &m)
	if m.Read != int64(len(next)+10) || len(m.Series.T) != 2 || m.Series.T[0] != 101 || m.LastT != 102 {
		t.Fatalf("after appending: read %d bytes (want %d), rows %v", m.Read, len(next)+10, m.Series.T)
	}
	if len(m.Series.Cols["d_st"]) != 2 {
		t.Errorf("appended rows' d_st: %v", m.Series.Cols["d_st"])
	}
	appendFile(t, filepath.Join(dir, "metrics.jsonl"), half[10:])
	get(t, hs.URL+"/api/metrics?id=0/live&after=102", &m)
	if m.Read != int64(len(half)-10) || len(m.Series.T) != 1 || m.Series.T[0] != 103 {
		t.Fatalf("completing the line: read %d, rows %v", m.Read, m.Series.T)
	}
	get(t, hs.URL+"/api/metrics?id=0/live&after=103", &m)
	if m.Read != 0 || len(m.Series.T) != 0 {
		t.Errorf("nothing appended: read %d bytes, rows %v", m.Read, m.Series.T)
	}
	writeRun(t, dir, 1000, 50, nil) // rewritten: shorter
	get(t, hs.URL+"/api/metrics?id=0/live&after=103", &m)
	if !m.Reload || m.LastT != 50 {
		t.Errorf("after a rewrite: reload %v, last %v", m.Reload, m.LastT)
	}
	if get(t, hs.URL+"/api/runs", &l); l.Runs[0].Iteration != 50 {
		t.Errorf("after a rewrite the list says iteration %d", l.Runs[0].Iteration)
	}
}

// TestDownsampleKeepsExtremes: 20,000 rows with one spike down and one
// up come back as 2 rows per bucket that still hold both spikes.
func TestDownsampleKeepsExtremes(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "long")
	writeRun(t, dir, 20000, 20000, nil)
	ms := filepath.Join(dir, "metrics.jsonl")
	b, _ := os.ReadFile(ms)
	lines := strings.SplitAfter(string(b), "\n")
	lines[12344] = `{"t":12345,"d_st":-50,"r_t":0.1}` + "\n"
	lines[7776] = `{"t":7777,"d_st":80,"r_t":0.1}` + "\n"
	os.WriteFile(ms, []byte(strings.Join(lines, "")), 0o644)
	_, hs := serve(t, root)
	var m MetricsAnswer
	get(t, hs.URL+"/api/metrics?id=0/long&points=100", &m)
	s := m.Series
	if !s.Downsampled || s.Rows != 20000 || len(s.T) != 200 || len(s.Cols["d_st"]) != 200 {
		t.Fatalf("downsampled: %v, %d rows of %d", s.Downsampled, len(s.T), s.Rows)
	}
	lo, hi := 0.0, 0.0
	for _, v := range s.Cols["d_st"] {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo != -50 || hi != 80 {
		t.Errorf("d_st range %v..%v, want the spikes -50..80", lo, hi)
	}
	if s.T[0] != 1 || s.T[len(s.T)-1] != 20000 {
		t.Errorf("t from %v to %v", s.T[0], s.T[len(s.T)-1])
	}
	get(t, hs.URL+"/api/metrics?id=0/long&points=100&lo=12300&hi=12399", &m)
	if m.Series.Downsampled || len(m.Series.T) != 100 || m.Series.T[0] != 12300 {
		t.Errorf("zoomed to 100 rows: downsampled %v, %d rows from %v", m.Series.Downsampled, len(m.Series.T), m.Series.T[0])
	}
}

// TestCompareLabels: runs are labelled by the variables that differ.
func TestCompareLabels(t *testing.T) {
	root := t.TempDir()
	writeRun(t, filepath.Join(root, "a"), 30, 30, map[string]string{"epsilon": "0.1", "steps": "20"})
	writeRun(t, filepath.Join(root, "b"), 30, 30, map[string]string{"epsilon": "0.3", "steps": "20"})
	_, hs := serve(t, root)
	var c struct {
		Names []string     `json:"names"`
		Runs  []CompareRun `json:"runs"`
	}
	if code, body := get(t, hs.URL+"/api/compare?metric=r_t&ids=0/a,0/b", &c); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	if len(c.Runs) != 2 || c.Runs[0].Label != "epsilon=0.1" || c.Runs[1].Label != "epsilon=0.3" || len(c.Runs[1].Y) != 30 {
		t.Errorf("compare: %+v", c.Runs)
	}
	if !strings.Contains(strings.Join(c.Names, ","), "diag.tv_ebm") {
		t.Errorf("metric names %v", c.Names)
	}
}
