package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/ebmflow/ebmflow/core/runner"
)

// RunInfo is a run's line in the run list.
type RunInfo struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Root     string    `json:"root"`
	Pipeline string    `json:"pipeline"`
	Created  time.Time `json:"created"`
	// Iteration is the last iteration in metrics.jsonl, Planned the
	// pipeline's train.iterations.
	Iteration int `json:"iteration"`
	Planned   int `json:"planned"`
	// State is running, finished, failed, interrupted, dead (its process
	// is gone without recording an end) or stopped (an older run folder
	// without status.json that did not reach its end); Detail says more.
	State  string `json:"state"`
	Detail string `json:"detail,omitempty"`
	// Last holds the last d_st, r_t and tv (the density total variation).
	Last    map[string]float64 `json:"last"`
	Verdict string             `json:"verdict,omitempty"`
	// Sweep and Point name the sweep the run belongs to.
	Sweep string            `json:"sweep,omitempty"`
	Point string            `json:"point,omitempty"`
	Vars  map[string]string `json:"vars"`
	// Problems are what is wrong in the folder (a torn line, a missing or
	// unreadable file); they never stop the rest from showing.
	Problems []string  `json:"problems,omitempty"`
	Modified time.Time `json:"modified"`
}

// liveWindow is how recently metrics.jsonl must have changed for a run
// without a checkable process to count as running.
const liveWindow = 5 * time.Minute

// runInfo gathers a run's list line.
func (s *Server) runInfo(r ref, f *found) RunInfo {
	info := RunInfo{ID: r.String(), Name: r.rel, Root: s.roots[r.root].Path, Last: map[string]float64{}, Vars: map[string]string{}}
	if pr, ok := f.sweepOf[r]; ok {
		info.Sweep, info.Point = pr.sweep.ref.String(), pr.point.Name
	}
	man, err := s.manifest(r)
	if err != nil {
		info.Problems = append(info.Problems, err.Error())
	} else {
		info.Pipeline = strings.TrimSuffix(baseName(man.Pipeline.Path), ".hcl")
		if pr, ok := f.sweepOf[r]; ok && pr.sweep.sweep.Plan.Pipeline != "" {
			info.Pipeline = strings.TrimSuffix(baseName(pr.sweep.sweep.Plan.Pipeline), ".hcl") // not the sweep's copy
		}
		info.Created = man.Created
		if man.Train != nil {
			info.Planned = man.Train.Iterations
		}
		info.Vars = man.Variables
	}
	tail, err := s.tail(r)
	starting := errors.Is(err, fs.ErrNotExist) && time.Since(info.Created) < liveWindow
	if err != nil && !starting {
		info.Problems = append(info.Problems, err.Error())
	}
	info.Modified = tail.modTime
	info.Iteration = tail.t
	for k, v := range tail.last {
		info.Last[k] = v
	}
	info.Problems = append(info.Problems, tail.problems...)
	sum, err := s.summary(r)
	switch {
	case err == nil:
		info.Verdict = sum.verdict
		if _, ok := info.Last["tv"]; !ok && !math.IsNaN(sum.tv) {
			info.Last["tv"] = sum.tv
		}
	case !errors.Is(err, fs.ErrNotExist):
		info.Problems = append(info.Problems, err.Error())
	}
	s.state(r, &info)
	if starting && info.State == "stopped" {
		info.State, info.Detail = "running", "starting its plugins: no metrics yet"
	}
	if info.State != "running" && tail.torn != "" {
		info.Problems = append(info.Problems, tail.torn)
	}
	return info
}

// state judges the run's state from status.json and, for a running record,
// whether its process is still there.
func (s *Server) state(r ref, info *RunInfo) {
	st, err := s.status(r)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			info.Problems = append(info.Problems, err.Error())
		}
		switch {
		case info.Planned > 0 && info.Iteration >= info.Planned:
			info.State = "finished"
		case time.Since(info.Modified) < liveWindow:
			info.State, info.Detail = "running", "no status.json: judged by recent writes to metrics.jsonl"
		default:
			info.State, info.Detail = "stopped", "no status.json, and it did not reach its last iteration"
		}
		return
	}
	switch st.State {
	case runner.StateRunning:
		alive, known := st.Alive()
		switch {
		case known && alive:
			info.State, info.Detail = "running", fmt.Sprintf("pid %d on %s", st.PID, st.Host)
		case known:
			info.State, info.Detail = "dead", fmt.Sprintf("pid %d is gone without recording an end (killed, or the machine went down); resume with ebmflow run -resume", st.PID)
		case time.Since(info.Modified) < liveWindow:
			info.State, info.Detail = "running", fmt.Sprintf("on %s (pid %d), by its record and recent writes", st.Host, st.PID)
		default:
			info.State, info.Detail = "dead", fmt.Sprintf("on %s (pid %d), no writes for %s", st.Host, st.PID, time.Since(info.Modified).Round(time.Minute))
		}
	case runner.StateFinished:
		info.State = "finished"
	case runner.StateInterrupted:
		info.State, info.Detail = "interrupted", fmt.Sprintf("stopped by a signal after iteration %d; resume with ebmflow run -resume", st.Iteration)
	case runner.StateNonFinite:
		info.State, info.Detail = "failed", st.Error
	default:
		info.State, info.Detail = "failed", st.Error
	}
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, "/\\"); i >= 0 {
		return p[i+1:]
	}
	return p
}

// manifest reads a run's manifest.json.
func (s *Server) manifest(r ref) (*runner.Manifest, error) {
	b, err := s.readFile(r.file("manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("manifest.json: %w", unwrapPath(err))
	}
	var m runner.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	return &m, nil
}

// status reads a run's status.json.
func (s *Server) status(r ref) (*runner.Status, error) {
	b, err := s.readFile(r.file(runner.StatusFile))
	if err != nil {
		return nil, err
	}
	var st runner.Status
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", runner.StatusFile, err)
	}
	return &st, nil
}

// summaryInfo is what the list shows of summary.json.
type summaryInfo struct {
	raw     map[string]any
	verdict string
	tv      float64
}

// summary reads a run's summary.json: the verdict of every diagnostics
// stage that gives one, and the last density total variation.
func (s *Server) summary(r ref) (*summaryInfo, error) {
	b, err := s.readFile(r.file(runner.SummaryFile))
	if err != nil {
		return nil, err
	}
	var doc struct {
		Stages map[string]struct {
			Verdict string `json:"verdict"`
			Density *struct {
				TV float64 `json:"tv_ebm"`
			} `json:"density"`
		} `json:"stages"`
	}
	out := &summaryInfo{tv: math.NaN()}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", runner.SummaryFile, err)
	}
	json.Unmarshal(b, &out.raw)
	var names []string
	for n := range doc.Stages {
		names = append(names, n)
	}
	sort.Strings(names)
	var vs []string
	for _, n := range names {
		st := doc.Stages[n]
		if st.Verdict != "" {
			vs = append(vs, st.Verdict)
		}
		if st.Density != nil {
			out.tv = st.Density.TV
		}
	}
	out.verdict = strings.Join(vs, ", ")
	return out, nil
}

// unwrapPath drops the absolute path an fs.PathError carries (the page
// shows folder-relative names).
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
