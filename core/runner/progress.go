package runner

import (
	"fmt"
	"io"
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
		fmt.Fprintf(p.w, "\r[%s] %d/%d  %.2f it/s  ETA %s  d_st %.4g  r_t %.4g  lr %.3g   ",
			bar, t, p.last, rate, eta.Round(time.Second), m.DST, m.R, m.LR)
		return
	}
	p.log.Info().Int("t", t).Int("of", p.last).Float64("it_per_s", rate).Str("eta", eta.Round(time.Second).String()).
		Float64("d_st", m.DST).Float64("r_t", m.R).Float64("lr", m.LR).Msg("training")
}

func (p *progress) done() {
	if p.w != nil {
		fmt.Fprintln(p.w)
	}
}
