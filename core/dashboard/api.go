package dashboard

import (
	"net/http"
	"time"
)

// SweepInfo is a sweep's line in the run list.
type SweepInfo struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	Created   time.Time    `json:"created"`
	Executor  string       `json:"executor"`
	Variables []string     `json:"variables"`
	Points    []SweepPoint `json:"points"`
	Problem   string       `json:"problem,omitempty"`
}

// SweepPoint is one point of a sweep: its variables and its run folder's
// id (empty until the point has one).
type SweepPoint struct {
	Name string            `json:"name"`
	Vars map[string]string `json:"vars"`
	Run  string            `json:"run,omitempty"`
}

// RunList is the answer of /api/runs.
type RunList struct {
	Roots    []string    `json:"roots"`
	Runs     []RunInfo   `json:"runs"`
	Sweeps   []SweepInfo `json:"sweeps"`
	Problems []string    `json:"problems,omitempty"`
}

// scanned returns a scan at most two seconds old.
func (s *Server) scanned() *found {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil || time.Since(s.lastAt) > 2*time.Second {
		s.mu.Unlock()
		f := s.scan()
		s.mu.Lock()
		s.last, s.lastAt = f, time.Now()
	}
	return s.last
}

func (s *Server) handleRuns(w http.ResponseWriter, r *http.Request) {
	f := s.scanned()
	out := RunList{Roots: s.Dirs(), Runs: []RunInfo{}, Sweeps: []SweepInfo{}, Problems: f.problems}
	isRun := map[ref]bool{}
	for _, rr := range f.runs {
		out.Runs = append(out.Runs, s.runInfo(rr, f))
		isRun[rr] = true
	}
	for _, sf := range f.sweeps {
		si := SweepInfo{ID: sf.ref.String(), Name: sf.sweep.Plan.Name, Created: sf.sweep.Created, Executor: sf.sweep.Executor,
			Variables: sf.sweep.Plan.Variables, Points: []SweepPoint{}, Problem: sf.err}
		for _, p := range sf.sweep.Plan.Points {
			sp := SweepPoint{Name: p.Name, Vars: p.Vars}
			if checkLocal(p.Name) == nil {
				if rr, err := sf.ref.join("runs/" + p.Name); err == nil && isRun[rr] {
					sp.Run = rr.String()
				}
			}
			si.Points = append(si.Points, sp)
		}
		out.Sweeps = append(out.Sweeps, si)
	}
	writeJSON(w, out)
}
