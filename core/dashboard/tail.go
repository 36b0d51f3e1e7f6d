package dashboard

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// tailInfo is what the run list needs of metrics.jsonl: the last
// iteration and the last d_st, r_t and density total variation, read from
// the end of the file and kept until its size or time changes.
type tailInfo struct {
	size     int64
	modTime  time.Time
	t        int
	last     map[string]float64
	torn     string
	problems []string
}

// tailBytes is how much of the end of metrics.jsonl the list reads.
const tailBytes = 256 << 10

// tail returns the run's tailInfo, from the cache when the file did not
// change.
func (s *Server) tail(r ref) (*tailInfo, error) {
	f, err := s.open(r.file("metrics.jsonl"))
	if err != nil {
		return &tailInfo{}, fmt.Errorf("metrics.jsonl: %w", unwrapPath(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return &tailInfo{}, fmt.Errorf("metrics.jsonl: %w", unwrapPath(err))
	}
	s.mu.Lock()
	c := s.tails[r]
	s.mu.Unlock()
	if c != nil && c.size == fi.Size() && c.modTime.Equal(fi.ModTime()) {
		return c, nil
	}
	c = &tailInfo{size: fi.Size(), modTime: fi.ModTime(), last: map[string]float64{}}
	off := max(fi.Size()-tailBytes, 0)
	buf := make([]byte, fi.Size()-off)
	n, err := f.ReadAt(buf, off)
	if err != nil && err != io.EOF {
		return c, fmt.Errorf("metrics.jsonl: %w", unwrapPath(err))
	}
	buf = buf[:n]
	if k := bytes.LastIndexByte(buf, '\n'); k < len(buf)-1 {
		if len(bytes.TrimSpace(buf[k+1:])) > 0 {
			c.torn = fmt.Sprintf("metrics.jsonl ends in an incomplete line of %d bytes (a run killed while writing it)", len(buf)-k-1)
		}
		buf = buf[:k+1]
	}
	lines := bytes.Split(bytes.TrimRight(buf, "\n"), []byte("\n"))
	first := 0
	if off > 0 {
		first = 1 // the first line may be cut
	}
	for i := len(lines) - 1; i >= first; i-- {
		vals := map[string]float64{}
		if len(bytes.TrimSpace(lines[i])) == 0 {
			continue
		}
		if err := parseLine(lines[i], func(k []byte, v float64) { vals[string(k)] = v }); err != nil {
			c.problems = append(c.problems, fmt.Sprintf("metrics.jsonl: a malformed line near the end: %v", err))
			continue
		}
		if c.t == 0 {
			c.t = int(vals["t"])
			for _, k := range []string{"d_st", "r_t"} {
				if v, ok := vals[k]; ok && !math.IsNaN(v) {
					c.last[k] = v
				}
			}
		}
		if _, ok := c.last["tv"]; !ok {
			for k, v := range vals {
				if strings.HasSuffix(k, ".tv_ebm") && !math.IsNaN(v) {
					c.last["tv"] = v
				}
			}
		}
		if _, ok := c.last["tv"]; ok {
			break
		}
	}
	s.mu.Lock()
	s.tails[r] = c
	s.mu.Unlock()
	return c, nil
}
