package dashboard

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"syscall"
	"time"
)

// tailInfo is what the run list needs of metrics.jsonl: the last
// iteration and the last d_st, r_t and density total variation. The first
// look reads the end of the file; later looks read only what was appended.
type tailInfo struct {
	ino      uint64
	offset   int64  // bytes consumed, up to the end of the last full line
	pending  []byte // a last line without its newline yet
	modTime  time.Time
	t        int
	last     map[string]float64
	torn     string
	problems []string
	// nread is how many bytes the last look read.
	nread int64
}

// tailBytes is how much of the end of metrics.jsonl the first look reads.
const tailBytes = 256 << 10

// tail returns the run's tailInfo, brought up to date.
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
	var ino uint64
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		ino = st.Ino
	}
	s.mu.Lock()
	old := s.tails[r]
	s.mu.Unlock()
	c := &tailInfo{ino: ino, last: map[string]float64{}}
	from, fresh := max(fi.Size()-tailBytes, 0), true
	if old != nil && old.ino == ino && fi.Size() >= old.offset+int64(len(old.pending)) {
		if fi.Size() == old.offset+int64(len(old.pending)) {
			return old, nil
		}
		*c = *old // continue after what the last look consumed
		c.last, c.problems = map[string]float64{}, append([]string(nil), old.problems...)
		for k, v := range old.last {
			c.last[k] = v
		}
		from, fresh = old.offset+int64(len(old.pending)), false
	}
	c.modTime = fi.ModTime()
	if err := c.read(f, from, fi.Size(), fresh); err != nil {
		return c, fmt.Errorf("metrics.jsonl: %w", unwrapPath(err))
	}
	s.mu.Lock()
	s.tails[r] = c
	s.mu.Unlock()
	return c, nil
}

// read consumes the bytes [from, to) of f; cut says the first line may
// start before from.
func (c *tailInfo) read(f *os.File, from, to int64, cut bool) error {
	buf := make([]byte, to-from)
	n, err := f.ReadAt(buf, from)
	if err != nil && err != io.EOF {
		return err
	}
	c.nread = int64(n)
	data := append(c.pending, buf[:n]...)
	if cut && from > 0 {
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	end := bytes.LastIndexByte(data, '\n') + 1
	c.pending = append([]byte(nil), data[end:]...)
	c.offset = to - int64(len(c.pending))
	c.torn = ""
	if len(bytes.TrimSpace(c.pending)) > 0 {
		c.torn = fmt.Sprintf("metrics.jsonl ends in an incomplete line of %d bytes (a run killed while writing it)", len(c.pending))
	}
	for _, line := range bytes.Split(data[:end], []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		vals := map[string]float64{}
		if err := parseLine(line, func(k []byte, v float64) { vals[string(k)] = v }); err != nil {
			c.problems = append(c.problems, fmt.Sprintf("metrics.jsonl: a malformed line near the end: %v", err))
			continue
		}
		c.t = int(vals["t"])
		for k, v := range vals {
			if math.IsNaN(v) {
				continue
			}
			switch {
			case k == "d_st" || k == "r_t":
				c.last[k] = v
			case strings.HasSuffix(k, ".tv_ebm"):
				c.last["tv"] = v
			}
		}
	}
	return nil
}
