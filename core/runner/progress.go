package runner

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// progress shows how a run goes: on a terminal, one line rewritten in place
// with iteration, it/s, ETA, d_st, r_t and lr; otherwise a log line every
// ten seconds.
type progress struct {
	w          io.Writer
	log        zerolog.Logger
	first      int
	last       int
	start      time.Time
	lastPrint  time.Time
	printEvery time.Duration
}

func newProgress(w io.Writer, log zerolog.Logger, first, last int) *progress {
	p := &progress{w: w, log: log, first: first, last: last, start: time.Now(), printEvery: 10 * time.Second}
	if w != nil {
		p.printEvery = 200 * time.Millisecond
	}
	return p
}

func (p *progress) update(t int, m Metric) {
	now := time.Now()
	if now.Sub(p.lastPrint) < p.printEvery && t != p.last {
		return
	}
	p.lastPrint = now
	done := t - p.first
	rate := float64(done) / now.Sub(p.start).Seconds()
	eta := time.Duration(float64(p.last-t)/rate) * time.Second
	if rate == 0 {
		eta = 0
	}
	if p.w != nil {
		width := 24
		filled := width * t / max(p.last, 1)
		bar := make([]byte, width)
		for i := range bar {
			bar[i] = '.'
			if i < filled {
				bar[i] = '#'
			}
		}
		line := fmt.Sprintf("[%s] %d/%d  %.2f it/s  ETA %s  d_st %.4g  r_t %.4g  lr %.3g",
			bar, t, p.last, rate, eta.Round(time.Second), m.DST, m.R, m.LR)
		if term, ok := p.w.(*Terminal); ok {
			term.setBar(line)
		} else {
			fmt.Fprintf(p.w, "\r%s   ", line)
		}
		return
	}
	p.log.Info().Int("t", t).Int("of", p.last).Float64("it_per_s", rate).Str("eta", eta.Round(time.Second).String()).
		Float64("d_st", m.DST).Float64("r_t", m.R).Float64("lr", m.LR).Msg("training")
}

func (p *progress) done() {
	if term, ok := p.w.(*Terminal); ok {
		term.endBar()
	} else if p.w != nil {
		fmt.Fprintln(p.w)
	}
}

// Terminal is a terminal shared by the progress line and the log: a log
// line written while the progress line shows clears it first and redraws
// it after, so that the two never share a line. Give the same Terminal to
// the logger (as its writer) and to Options.Progress.
type Terminal struct {
	mu  sync.Mutex
	w   io.Writer
	bar string // the progress line on screen, if any
}

// NewTerminal wraps w, a terminal.
func NewTerminal(w io.Writer) *Terminal { return &Terminal{w: w} }

// clearLine returns the cursor to the start of the line and erases it.
const clearLine = "\r\x1b[K"

// Write writes a log line above the progress line.
func (t *Terminal) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bar == "" {
		return t.w.Write(b)
	}
	io.WriteString(t.w, clearLine)
	n, err := t.w.Write(b)
	if len(b) > 0 && b[len(b)-1] != '\n' {
		io.WriteString(t.w, "\n")
	}
	io.WriteString(t.w, t.bar)
	return n, err
}

func (t *Terminal) setBar(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.bar = line
	io.WriteString(t.w, clearLine+line)
}

// endBar leaves the last progress line on screen and moves past it.
func (t *Terminal) endBar() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.bar != "" {
		io.WriteString(t.w, "\n")
	}
	t.bar = ""
}
