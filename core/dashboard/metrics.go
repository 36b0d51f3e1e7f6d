package dashboard

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Points per chart: the default number of buckets, and the most a page may
// ask for.
const (
	defaultBuckets = 1000
	maxBuckets     = 10000
	// maxAfterRows bounds a live update; a page that fell further behind
	// reloads the downsampled series instead.
	maxAfterRows = 5000
	// maxTables bounds the metrics tables kept in memory.
	maxTables = 32
)

// MetricsAnswer is the answer of /api/metrics.
type MetricsAnswer struct {
	Names  []string `json:"names"`
	Series *Series  `json:"series"`
	// LastT is the last iteration in the file; Bytes its length consumed
	// and Read how many bytes this request read from it.
	LastT float64 `json:"last_t"`
	Bytes int64   `json:"bytes"`
	Read  int64   `json:"read"`
	// Reload says that the rows after the asked iteration were too many
	// (or the file was rewritten): the page reloads the whole series.
	Reload   bool     `json:"reload,omitempty"`
	Problems []string `json:"problems,omitempty"`
}

// metrics returns the run's table, brought up to date with the bytes
// appended to metrics.jsonl since the last call; it is locked.
func (s *Server) metrics(rr ref) (*table, error) {
	s.mu.Lock()
	tb := s.tables[rr]
	if tb == nil {
		if len(s.tables) >= maxTables {
			s.evictTable()
		}
		tb = newTable()
		s.tables[rr] = tb
	}
	tb.used = time.Now()
	s.mu.Unlock()
	tb.mu.Lock()
	f, err := s.open(rr.file("metrics.jsonl"))
	if err != nil {
		tb.mu.Unlock()
		return nil, fmt.Errorf("metrics.jsonl: %w", unwrapPath(err))
	}
	defer f.Close()
	if err := tb.refresh(f); err != nil {
		tb.mu.Unlock()
		return nil, fmt.Errorf("metrics.jsonl: %w", err)
	}
	return tb, nil
}

// evictTable drops the least recently used table; s.mu is held.
func (s *Server) evictTable() {
	var old ref
	var at time.Time
	for r, tb := range s.tables {
		if at.IsZero() || tb.used.Before(at) {
			old, at = r, tb.used
		}
	}
	delete(s.tables, old)
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rr, err := s.parseRef(q.Get("id"))
	if err != nil {
		httpError(w, err)
		return
	}
	tb, err := s.metrics(rr)
	if err != nil {
		httpError(w, err)
		return
	}
	defer tb.mu.Unlock()
	names := tb.names()
	if want := q.Get("names"); want != "" {
		names = strings.Split(want, ",")
	}
	a := MetricsAnswer{Names: tb.names(), Bytes: tb.offset, Read: tb.Read, Problems: tb.problems()}
	if n := len(tb.T); n > 0 {
		a.LastT = tb.T[n-1]
	}
	if after := q.Get("after"); after != "" {
		t, err := strconv.ParseFloat(after, 64)
		if err != nil {
			httpError(w, fmt.Errorf("after=%q: %w", after, err))
			return
		}
		a.Series = downsample(tb, names, math.Nextafter(t, math.Inf(1)), math.NaN(), 0)
		if a.Series.Rows > maxAfterRows || t > a.LastT {
			a.Reload, a.Series = true, nil
		}
		writeJSON(w, a)
		return
	}
	buckets, err := intParam(q.Get("points"), defaultBuckets)
	if err != nil {
		httpError(w, err)
		return
	}
	lo, hi := floatParam(q.Get("lo")), floatParam(q.Get("hi"))
	a.Series = downsample(tb, names, lo, hi, min(max(buckets, 1), maxBuckets))
	writeJSON(w, a)
}

// problems are the table's malformed lines and a torn last line.
func (tb *table) problems() []string {
	out := append([]string(nil), tb.Errs...)
	if tb.nErrs > len(tb.Errs) {
		out = append(out, fmt.Sprintf("and %d more malformed lines", tb.nErrs-len(tb.Errs)))
	}
	return out
}

func intParam(v string, def int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number", v)
	}
	return n, nil
}

// floatParam reads an optional bound; NaN when absent or not a number.
func floatParam(v string) float64 {
	f, err := strconv.ParseFloat(v, 64)
	if v == "" || err != nil {
		return math.NaN()
	}
	return f
}

// CompareRun is one run's series of the compared metric.
type CompareRun struct {
	ID    string            `json:"id"`
	Name  string            `json:"name"`
	Label string            `json:"label"`
	Vars  map[string]string `json:"vars"`
	T     floats            `json:"t"`
	Y     floats            `json:"y"`
	Error string            `json:"error,omitempty"`
}

func (s *Server) handleCompare(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	metric := q.Get("metric")
	ids := strings.Split(q.Get("ids"), ",")
	if metric == "" || q.Get("ids") == "" {
		httpError(w, fmt.Errorf("compare needs ids=ID,ID,... and metric=NAME"))
		return
	}
	buckets, err := intParam(q.Get("points"), defaultBuckets)
	if err != nil {
		httpError(w, err)
		return
	}
	buckets = min(max(buckets, 1), maxBuckets)
	out := []CompareRun{}
	names := map[string]bool{}
	for _, id := range ids {
		rr, err := s.parseRef(id)
		if err != nil {
			httpError(w, err)
			return
		}
		c := CompareRun{ID: rr.String(), Name: rr.rel, Vars: map[string]string{}}
		if m, err := s.manifest(rr); err == nil {
			c.Vars = m.Variables
		}
		if tb, err := s.metrics(rr); err != nil {
			c.Error = err.Error()
		} else {
			sr := downsample(tb, []string{metric}, math.NaN(), math.NaN(), buckets)
			for _, n := range tb.names() {
				names[n] = true
			}
			tb.mu.Unlock()
			c.T, c.Y = sr.T, sr.Cols[metric]
		}
		out = append(out, c)
	}
	label(out)
	list := make([]string, 0, len(names))
	for n := range names {
		list = append(list, n)
	}
	sort.Strings(list)
	writeJSON(w, map[string]any{"metric": metric, "names": list, "runs": out})
}

// label names each run by the variables whose values differ among the
// runs (all of them when none differ), else by its folder.
func label(runs []CompareRun) {
	var differ []string
	seen := map[string]bool{}
	for _, c := range runs {
		for k := range c.Vars {
			if seen[k] {
				continue
			}
			seen[k] = true
			for _, d := range runs {
				if d.Vars[k] != c.Vars[k] {
					differ = append(differ, k)
					break
				}
			}
		}
	}
	sort.Strings(differ)
	for i := range runs {
		var parts []string
		for _, k := range differ {
			v := runs[i].Vars[k]
			if u, err := strconv.Unquote(v); err == nil {
				v = u // a string variable, as HCL writes it
			}
			parts = append(parts, k+"="+v)
		}
		runs[i].Label = strings.Join(parts, " ")
		if runs[i].Label == "" {
			runs[i].Label = runs[i].Name
		}
	}
}
