package dashboard

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/ebmflow/ebmflow/core/runner"
)

// Figure is an image of a run folder: its path inside the run folder, the
// iteration it shows (0: not known) and a version that changes when the
// file is rewritten (for the browser's cache).
type Figure struct {
	Path string `json:"path"`
	T    int    `json:"t,omitempty"`
	V    int64  `json:"v"`
}

// RunDetail is the answer of /api/run: everything on a run's page but the
// metrics, which /api/metrics serves.
type RunDetail struct {
	Info     RunInfo             `json:"info"`
	Manifest *runner.Manifest    `json:"manifest,omitempty"`
	Status   *runner.Status      `json:"status,omitempty"`
	Summary  map[string]any      `json:"summary,omitempty"`
	Events   []json.RawMessage   `json:"events"`
	Samples  map[string][]Figure `json:"samples"`
	Density  []Figure            `json:"density"`
	Figures  []Figure            `json:"figures"`
	// Band is the r_t target band of a diagnostics stage, when it has one.
	Band *[2]float64 `json:"band,omitempty"`
	Poll int         `json:"poll_ms"`
}

// maxEvents is how many of the last events the page shows, read from at
// most the last eventBytes of events.jsonl.
const (
	maxEvents  = 200
	eventBytes = 64 << 10
)

func (s *Server) handleRun(w http.ResponseWriter, r *http.Request) {
	rr, err := s.parseRef(r.URL.Query().Get("id"))
	if err != nil {
		httpError(w, err)
		return
	}
	if _, err := s.stat(rr.file("manifest.json")); err != nil {
		httpError(w, err)
		return
	}
	d := RunDetail{Info: s.runInfo(rr, s.scanned()), Samples: map[string][]Figure{}, Events: []json.RawMessage{},
		Density: []Figure{}, Figures: []Figure{}, Poll: s.opts.Poll}
	d.Manifest, _ = s.manifest(rr)
	d.Status, _ = s.status(rr)
	if sum, err := s.summary(rr); err == nil {
		d.Summary = sum.raw
		d.Band = band(sum.raw)
	}
	if b, err := s.readTail(rr.file(runner.EventsFile), eventBytes); err == nil {
		lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
		for _, l := range lines[max(len(lines)-maxEvents, 0):] {
			if json.Valid(l) {
				d.Events = append(d.Events, l)
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		d.Info.Problems = append(d.Info.Problems, "events.jsonl: "+unwrapPath(err).Error())
	}
	for _, name := range []string{"diagnostics.png", "density.png"} {
		if fi, err := s.stat(rr.file(name)); err == nil {
			d.Figures = append(d.Figures, Figure{Path: name, V: fi.ModTime().UnixNano()})
		}
	}
	for _, f := range s.figures(rr, "samples") {
		kind, _, _ := strings.Cut(path.Base(f.Path), "-")
		d.Samples[kind] = append(d.Samples[kind], f)
	}
	d.Density = s.figures(rr, "density")
	writeJSON(w, d)
}

// figures lists dir's KIND-NNNNNNNNN.png files by iteration.
func (s *Server) figures(rr ref, dir string) []Figure {
	out := []Figure{}
	ents, err := s.readDir(rr.file(dir))
	if err != nil {
		return out
	}
	for _, e := range ents {
		name := e.Name()
		stem, ok := strings.CutSuffix(name, ".png")
		i := strings.LastIndexByte(stem, '-')
		if !ok || i < 0 || !e.Type().IsRegular() {
			continue
		}
		t, err := strconv.Atoi(stem[i+1:])
		if err != nil {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, Figure{Path: dir + "/" + name, T: t, V: fi.ModTime().UnixNano()})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].T < out[b].T })
	return out
}

// band finds a diagnostics stage's r_t target band in summary.json: the
// report window's, else the stage's r_band option; none when it is unset
// ([0, 0]).
func band(sum map[string]any) *[2]float64 {
	stages, _ := sum["stages"].(map[string]any)
	names := make([]string, 0, len(stages))
	for n := range stages {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		st, _ := stages[n].(map[string]any)
		for _, p := range [][]string{{"window", "r_t", "band"}, {"options", "r_band"}} {
			if b := pair(dig(st, p...)); b != nil {
				return b
			}
		}
	}
	return nil
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func pair(v any) *[2]float64 {
	a, ok := v.([]any)
	if !ok || len(a) != 2 {
		return nil
	}
	lo, ok1 := a[0].(float64)
	hi, ok2 := a[1].(float64)
	if !ok1 || !ok2 || hi <= lo {
		return nil
	}
	return &[2]float64{lo, hi}
}
