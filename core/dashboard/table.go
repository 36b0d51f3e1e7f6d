package dashboard

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"sync"
	"syscall"
	"time"
)

// table is a run's metrics.jsonl held in columns: T the iterations, Cols
// every metric by name (NaN where a line lacks it), each as long as T.
// It follows the file by reading only what was appended since the last
// refresh; a file that shrank or was replaced (a resumed run truncates its
// metrics) is read again from the start.
type table struct {
	mu      sync.Mutex
	T       []float64
	Cols    map[string]*column
	offset  int64  // bytes consumed, up to the end of the last full line
	pending []byte // a last line without its newline yet
	ino     uint64
	line    int // lines consumed
	// Errs are the malformed lines (at most maxErrs), by line number.
	Errs    []string
	nErrs   int
	ModTime time.Time
	// Read is how many bytes the last refresh read.
	Read int64
	used time.Time // guarded by the Server's mu
}

const maxErrs = 5

// column is one metric's values, row by row.
type column struct{ v []float64 }

func newTable() *table { return &table{Cols: map[string]*column{}} }

// refresh reads what was appended to f since the last call.
func (tb *table) refresh(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	var ino uint64
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		ino = st.Ino
	}
	size := fi.Size()
	if ino != tb.ino || size < tb.offset+int64(len(tb.pending)) {
		tb.T, tb.Cols, tb.offset, tb.pending, tb.ino, tb.line, tb.Errs, tb.nErrs = nil, map[string]*column{}, 0, nil, ino, 0, nil, 0
	}
	tb.ModTime = fi.ModTime()
	tb.Read = 0
	start := tb.offset + int64(len(tb.pending))
	if size == start {
		return nil
	}
	buf := make([]byte, size-start)
	n, err := f.ReadAt(buf, start)
	if err != nil && err != io.EOF {
		return err
	}
	tb.Read = int64(n)
	data := buf[:n]
	if len(tb.pending) > 0 {
		data = append(tb.pending, data...)
	}
	last := bytes.LastIndexByte(data, '\n')
	if last < 0 {
		tb.pending = data
		return nil
	}
	tb.ingest(data[:last+1])
	tb.offset += int64(last + 1)
	tb.pending = append([]byte(nil), data[last+1:]...)
	return nil
}

// ingest appends complete lines.
func (tb *table) ingest(data []byte) {
	row := len(tb.T)
	lines := bytes.Count(data, []byte{'\n'})
	room := lines + lines/4 + 1024 // headroom, so a live run's next lines copy nothing
	if cap(tb.T)-len(tb.T) < lines {
		tb.T = slices.Grow(tb.T, room)
		for _, c := range tb.Cols {
			c.v = slices.Grow(c.v, room)
		}
	}
	var t float64
	hasT := false
	set := func(name []byte, v float64) {
		if string(name) == "t" {
			t, hasT = v, true
			return
		}
		col := tb.Cols[string(name)]
		if col == nil {
			col = &column{v: make([]float64, row, cap(tb.T))}
			for i := range col.v {
				col.v[i] = math.NaN()
			}
			tb.Cols[string(name)] = col
		}
		if len(col.v) == row { // the first value of this column on this row
			col.v = append(col.v, v)
		}
	}
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		line := data[:i]
		data = data[i+1:]
		tb.line++
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		hasT = false
		err := parseLine(line, set)
		if err == nil && !hasT {
			err = fmt.Errorf("no \"t\"")
		}
		if err != nil {
			tb.nErrs++
			if len(tb.Errs) < maxErrs {
				tb.Errs = append(tb.Errs, fmt.Sprintf("metrics.jsonl line %d: %v", tb.line, err))
			}
			for _, col := range tb.Cols { // drop what the bad line set
				col.v = col.v[:row]
			}
			continue
		}
		tb.T = append(tb.T, t)
		row++
		for _, col := range tb.Cols {
			if len(col.v) < row {
				col.v = append(col.v, math.NaN())
			}
		}
	}
}

// names returns the metric names: the core's fields first, the learning
// dynamics (d_st, r_t) leading, then the diagnostics stages' sorted.
func (tb *table) names() []string {
	core := []string{"d_st", "r_t", "mean_f_pos", "mean_f_neg", "grad_norm", "lr", "wall_seconds"}
	var out, rest []string
	for _, n := range core {
		if _, ok := tb.Cols[n]; ok {
			out = append(out, n)
		}
	}
	for n := range tb.Cols {
		if !contains(core, n) {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// tornTail describes a last line without its newline, or "".
func (tb *table) tornTail() string {
	if len(bytes.TrimSpace(tb.pending)) == 0 {
		return ""
	}
	return fmt.Sprintf("metrics.jsonl ends in an incomplete line of %d bytes (a run killed while writing, or still writing it)", len(tb.pending))
}
