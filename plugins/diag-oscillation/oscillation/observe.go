package oscillation

import (
	"context"
	"errors"
	"fmt"

	"github.com/ebmflow/ebmflow/sdk"
)

// ErrOrder reports a record whose iteration does not come after the last one.
var ErrOrder = errors.New("records out of order")

// Observe appends the records to the history. On every iteration that is a
// multiple of `every` it recomputes the window statistics and the class, and
// on every multiple of density_every it runs the density diagnostic; the
// returned observation carries the metrics that changed and the events (see
// the package documentation), which the host logs and writes to
// events.jsonl. Records must arrive in increasing t.
func (p *Plugin) Observe(ctx context.Context, recs []sdk.Record) (*sdk.Observation, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	obs := &sdk.Observation{}
	for _, rec := range recs {
		if rec.T <= p.lastT && (p.hist.len() > 0 || p.nonFinite > 0) {
			return obs, fmt.Errorf("observe t=%d after t=%d: %w", rec.T, p.lastT, ErrOrder)
		}
		p.lastT = rec.T
		if !finite(rec.DST) || !finite(rec.R) {
			p.nonFinite++
			obs.Events = append(obs.Events, sdk.Event{T: rec.T, Level: "error",
				Message: fmt.Sprintf("d_st = %v, r_t = %v: not finite, record left out of the diagnostics", rec.DST, rec.R)})
		} else {
			p.hist.T = append(p.hist.T, float64(rec.T))
			p.hist.D = append(p.hist.D, rec.DST)
			p.hist.R = append(p.hist.R, rec.R)
		}
		if rec.T%p.opts.Every == 0 {
			p.refresh(rec.T, obs)
		}
		if p.dens != nil && rec.T%p.opts.DensityEvery == 0 {
			p.densityStep(ctx, rec.T, obs)
		}
		if p.qual != nil && rec.T%p.opts.QualityEvery == 0 {
			p.qualityStep(ctx, rec.T, obs)
		}
		if p.runDir != "" && p.opts.ReportEvery > 0 && rec.T%p.opts.ReportEvery == 0 {
			if _, err := p.report(ctx, false); err != nil {
				obs.Events = append(obs.Events, sdk.Event{T: rec.T, Level: "warn", Message: "refreshing the report: " + err.Error()})
			}
		}
	}
	return obs, nil
}

// refresh recomputes the window statistics at iteration t and records the
// class and r_t band changes in obs.
func (p *Plugin) refresh(t int, obs *sdk.Observation) {
	if p.hist.len() == 0 {
		return
	}
	s := statsOf(p.hist, p.opts, &p.sc)
	first := !p.known
	if first || s.Class != p.class {
		setMetric(obs, "osc_class", float64(s.Class))
		if !first || s.Class != NotStationary {
			obs.Events = append(obs.Events, sdk.Event{T: t, Level: classLevel(p.class, s.Class, first),
				Message: classMessage(p.class, s, first)})
		}
	}
	if p.opts.RBandSource != "" && (first || s.R.State != p.rState) {
		setMetric(obs, "r_band_state", float64(s.R.State))
		if s.R.State != 0 || !first {
			level, verb := "warn", "left"
			if s.R.State == 0 {
				level, verb = "info", "is back in"
			}
			obs.Events = append(obs.Events, sdk.Event{T: t, Level: level,
				Message: fmt.Sprintf("r_t %s its band [%g, %g]: mean of the last %d values %.4g",
					verb, p.opts.RBand[0], p.opts.RBand[1], min(p.opts.Every, s.N), s.R.Recent)})
		}
	}
	p.known, p.class, p.rState = true, s.Class, s.R.State
}

// classLevel is the level of a class-change event: "error" into collapse,
// "warn" when a recognised oscillation (weak or strong) is lost, else
// "info" (leaving not_stationary after the first records is no alarm).
func classLevel(from, to Class, first bool) string {
	switch {
	case to == Collapse:
		return "error"
	case !first && (from == Weak || from == Strong) && (to == Unclassified || to == NotStationary):
		return "warn"
	}
	return "info"
}

func classMessage(from Class, s Stats, first bool) string {
	head := fmt.Sprintf("oscillation class %s", s.Class)
	if !first {
		head = fmt.Sprintf("oscillation class %s -> %s", from, s.Class)
	}
	if s.Class == Collapse {
		head = "collapse suspected (d_st -> -infinity): " + head
	}
	return head + ": " + s.Reason
}

func setMetric(obs *sdk.Observation, name string, v float64) {
	if obs.Metrics == nil {
		obs.Metrics = map[string]float64{}
	}
	obs.Metrics[name] = v
}
