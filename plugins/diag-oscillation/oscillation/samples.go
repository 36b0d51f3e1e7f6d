package oscillation

import (
	"context"
	"fmt"

	"github.com/ebmflow/ebmflow/sdk"
)

// SetSamples hands the plugin the latest short-run samples (shape [n, 2]) of
// the model, for TV_samples and the third panel of density.png, for an
// in-process caller without a linked sampler. With the sampler attribute set
// the next density evaluation replaces them with samples drawn through the
// link. The samples are copied and saved with SaveState.
func (p *Plugin) SetSamples(x *sdk.Tensor) error {
	if err := x.Validate(); err != nil {
		return fmt.Errorf("set samples: %w", err)
	}
	if len(x.Shape) != 2 || x.Shape[1] != 2 || x.Shape[0] == 0 {
		return fmt.Errorf("set samples: %w: shape %s, want [n 2] with n > 0", sdk.ErrShape, sdk.FormatShape(x.Shape))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dens == nil {
		return fmt.Errorf("set samples: density diagnostic off (energy and data not set)")
	}
	p.dens.samples = x.Clone()
	return nil
}

// densityStep runs the density diagnostic at iteration t, adding its metrics
// to obs, or a warning event when a linked stage fails (when only the
// sampler fails, tv_ebm and tv_floor are still reported).
func (p *Plugin) densityStep(ctx context.Context, t int, obs *sdk.Observation) {
	r, err := p.dens.evaluate(ctx, t)
	p.dens.has, p.dens.lastErr = err == nil, ""
	if err != nil {
		p.dens.lastErr = err.Error()
		obs.Events = append(obs.Events, sdk.Event{T: t, Level: "warn", Message: fmt.Sprintf("density diagnostic: %v", err)})
		return
	}
	setMetric(obs, "tv_ebm", r.TVEBM)
	setMetric(obs, "tv_floor", r.TVFloor)
	setMetric(obs, "tv_floor_sd", r.TVFloorSD)
	if r.SamplesError != "" {
		obs.Events = append(obs.Events, sdk.Event{T: t, Level: "warn", Message: fmt.Sprintf("density diagnostic: %s", r.SamplesError)})
	}
	if r.HasSamples {
		setMetric(obs, "tv_samples", r.TVSamples)
	}
}
