package oscillation

import (
	"context"
	"fmt"
	"time"

	"github.com/ebmflow/ebmflow/plugins/diag-oscillation/oscillation/quality"
	"github.com/ebmflow/ebmflow/sdk"
)

// imageQuality is the sample-quality diagnostic of an image data set: the
// linked data stage's held-out examples and the sampler's short-run
// samples, compared by package quality every quality_every iterations.
type imageQuality struct {
	data        sdk.DataLink
	sampler     sdk.SamplerLink
	stage       string
	n           int    // quality_samples
	samplesInit string // "" as the sampler is configured

	// base is built on the first evaluation (again after a resume: the
	// held-out draws are idempotent, so it is the same).
	base *quality.Baseline

	// last is the latest evaluation (when has), lastErr why the latest
	// failed; reports show it as it is.
	has     bool
	last    qualityResult
	lastErr string
}

// qualityResult is one evaluation of the image quality diagnostic.
type qualityResult struct {
	T int `json:"t"`
	// Samples is the number of short-run samples, also the size of each
	// held-out set of the floor and of the reference set.
	Samples int `json:"samples"`
	// MMD2 is MMD2_u(samples, reference) (absent when HasMMD is false:
	// non-finite samples); Floor and FloorSD the mean and standard
	// deviation of MMD2_u(B_r, reference) over FloorReps held-out sets B_r.
	MMD2      float64 `json:"mmd2_samples"`
	HasMMD    bool    `json:"has_mmd"`
	Floor     float64 `json:"mmd2_floor"`
	FloorSD   float64 `json:"mmd2_floor_sd"`
	FloorReps int     `json:"floor_reps"`
	// Bandwidth is s2 of the kernel exp(-||x-y||^2 / (2 s2)).
	Bandwidth float64 `json:"bandwidth_s2"`
	// Sat and Beyond are the samples' fractions of pixel values with
	// |v| >= 0.99 and |v| > 1; SatData is the reference set's Sat.
	Sat     float64 `json:"sat_samples"`
	Beyond  float64 `json:"beyond_samples"`
	SatData float64 `json:"sat_data"`
	// SamplesError says why MMD2 is missing.
	SamplesError string `json:"samples_error,omitempty"`
}

// metrics returns the result's numbers under their metrics.jsonl names.
func (r qualityResult) metrics() map[string]float64 {
	m := map[string]float64{"mmd2_floor": r.Floor, "mmd2_floor_sd": r.FloorSD,
		"sat_samples": r.Sat, "beyond_samples": r.Beyond, "sat_data": r.SatData}
	if r.HasMMD {
		m["mmd2_samples"] = r.MMD2
	}
	return m
}

// evaluate draws n short-run samples at iteration t through the sampler
// (stream "diag:STAGE", bank only read) and measures them against the
// held-out baseline (data stream "diag:STAGE", Split test, no noise).
func (q *imageQuality) evaluate(ctx context.Context, t int) (qualityResult, error) {
	start := time.Now()
	var baseline time.Duration
	if q.base == nil {
		b, err := quality.NewBaseline(ctx, q.data, "diag:"+q.stage, q.n, q.n, quality.FloorReps)
		if err != nil {
			return qualityResult{}, fmt.Errorf("attribute %q: %w", attrData, err)
		}
		q.base = b
		baseline = time.Since(start)
	}
	drawn := time.Now()
	x, err := shortRun(ctx, q.sampler, q.n, t, q.samplesInit, q.stage)
	if err != nil {
		return qualityResult{}, err
	}
	if sh := x.Shape; len(sh) < 2 || sh[0] != q.n || sdk.NumElements(sh[1:]) != q.base.Ref.A.D {
		return qualityResult{}, fmt.Errorf("attribute %q: sampler returned samples of shape %s, want %d rows of %d values like the held-out examples: %w",
			attrSampler, sdk.FormatShape(sh), q.n, q.base.Ref.A.D, sdk.ErrShape)
	}
	measured := time.Now()
	m, err := q.base.Evaluate(x)
	sdk.Logger().Debug().Int("t", t).Dur("baseline", baseline).Dur("samples", measured.Sub(drawn)).
		Dur("measure", time.Since(measured)).Msg("image quality evaluation")
	r := qualityResult{T: t, Samples: q.n, MMD2: m.MMD2, HasMMD: m.HasMMD, Floor: q.base.Floor, FloorSD: q.base.FloorSD,
		FloorReps: q.base.Reps, Bandwidth: q.base.Ref.S2, Sat: m.Sat.Saturated, Beyond: m.Sat.Beyond, SatData: q.base.Data.Saturated}
	if err != nil {
		r.SamplesError = err.Error()
	}
	return r, nil
}

// qualityStep runs the image quality diagnostic at iteration t, adding its
// metrics to obs, or a warning event when it fails.
func (p *Plugin) qualityStep(ctx context.Context, t int, obs *sdk.Observation) {
	r, err := p.qual.evaluate(ctx, t)
	p.qual.has, p.qual.lastErr = err == nil, ""
	if err != nil {
		p.qual.lastErr = err.Error()
		obs.Events = append(obs.Events, sdk.Event{T: t, Level: "warn", Message: fmt.Sprintf("image quality diagnostic: %v", err)})
		return
	}
	p.qual.last = r
	if r.SamplesError != "" {
		obs.Events = append(obs.Events, sdk.Event{T: t, Level: "warn", Message: fmt.Sprintf("image quality diagnostic: no MMD: %s", r.SamplesError)})
	}
	for k, v := range r.metrics() {
		setMetric(obs, k, v)
	}
}

// qualityLine is the diagnostics figure's line on the last evaluation.
func (q *imageQuality) qualityLine() string {
	switch {
	case q.has && q.last.HasMMD:
		r := q.last
		return fmt.Sprintf("samples at t = %d: MMD^2 to held-out digits %.4g (floor %.2g +- %.2g); saturated pixels %.3f (data %.3f), beyond [-1,1] %.3f",
			r.T, r.MMD2, r.Floor, r.FloorSD, r.Sat, r.SatData, r.Beyond)
	case q.has:
		return fmt.Sprintf("samples at t = %d: no MMD (%s); saturated pixels %.3f (data %.3f), beyond [-1,1] %.3f",
			q.last.T, q.last.SamplesError, q.last.Sat, q.last.SatData, q.last.Beyond)
	case q.lastErr != "":
		return "image quality: " + q.lastErr
	}
	return ""
}
