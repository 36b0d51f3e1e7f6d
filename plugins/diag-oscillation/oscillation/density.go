package oscillation

import (
	"context"
	"fmt"
	"math"

	"github.com/ebmflow/ebmflow/plugins/diag-oscillation/oscillation/tv"
	"github.com/ebmflow/ebmflow/sdk"
)

// Sizes of the density diagnostic (the reference's plot grid and sample count).
const (
	// FineCells is the side of the grid of cell centres for TV_ebm.
	FineCells = 200
	// HistCells is the side of the histogram grid for TV_samples.
	HistCells = 50
	// SubCells is the side of the midpoint sub-grid integrating the true
	// density over each histogram cell.
	SubCells = 4
	// FloorDraws is the number of exact draws in one set behind TV_floor.
	FloorDraws = 10000
	// FloorReps is the number of such sets TV_floor averages over.
	FloorReps = 10
	// ShortRunDraws is the number of short-run samples drawn through the
	// linked sampler at each density evaluation.
	ShortRunDraws = 10000
	// linkBatch is the most points sent to a linked stage in one call.
	linkBatch = 10000
)

// density is the 2-D density diagnostic: the linked stages and what it has
// learnt of the truth (computed once, on first use).
type density struct {
	energy  sdk.EnergyLink
	data    sdk.DataLink
	sampler sdk.SamplerLink // nil when the sampler attribute is not set
	eps     float64
	stage   string

	ready      bool
	fine, hist tv.Grid
	finePts    []float64 // (x, y) cell centres of fine
	truth      []float64 // true density on fine, normalised to sum 1
	mass       []float64 // true mass per cell of hist
	inBoxMass  float64   // sum of mass before any rescaling

	hasFloor bool
	floor    float64
	floorSD  float64

	// last is the latest evaluation (has set), or lastErr why it failed;
	// reports show it as it is, never evaluating again.
	has     bool
	lastErr string
	// samplesInit is the init of the chains drawn through sampler ("" as
	// the sampler is configured).
	samplesInit string

	// samples are the latest short-run samples: drawn through sampler at
	// each evaluation, or handed over with SetSamples; nil when none.
	samples *sdk.Tensor

	last densityResult
}

// densityResult is one evaluation of the density diagnostic.
type densityResult struct {
	T     int          `json:"t"`
	Box   [][2]float64 `json:"box"` // [lo, hi] of x, then of y
	TVEBM float64      `json:"tv_ebm"`
	// TVFloor is the mean over FloorReps sets of FloorDraws exact draws of
	// their TV_samples, TVFloorSD its standard deviation.
	TVFloor    float64 `json:"tv_floor"`
	TVFloorSD  float64 `json:"tv_floor_sd"`
	HasSamples bool    `json:"has_samples"`
	TVSamples  float64 `json:"tv_samples,omitempty"`
	// SamplesError says why no short-run samples could be drawn through
	// the linked sampler (TV_ebm is still computed).
	SamplesError string    `json:"samples_error,omitempty"`
	InBoxMass    float64   `json:"true_in_box_mass"`
	model        []float64 // EBM density on the fine grid, for the figure
}

func newDensity(e sdk.EnergyLink, d sdk.DataLink, eps float64, stage string) *density {
	return &density{energy: e, data: d, eps: eps, stage: stage}
}

// prepare describes the data stage and tabulates its true density once.
func (d *density) prepare(ctx context.Context) error {
	if d.ready {
		return nil
	}
	info, err := d.data.Describe(ctx)
	if err != nil {
		return fmt.Errorf("describe data: %w", err)
	}
	if len(info.Shape) != 1 || info.Shape[0] != 2 || !info.HasDensity || !validBox(info.Box) {
		return fmt.Errorf("data stage has shape %v, density %v, box %v: want 2-D samples with a known density and a plot box [lo, hi] per axis: %w",
			info.Shape, info.HasDensity, info.Box, sdk.ErrUnsupported)
	}
	x, y := tv.Axis{Lo: info.Box[0][0], Hi: info.Box[0][1]}, tv.Axis{Lo: info.Box[1][0], Hi: info.Box[1][1]}
	d.fine = tv.Grid{X: x, Y: y, N: FineCells}
	d.hist = tv.Grid{X: x, Y: y, N: HistCells}
	d.finePts = d.fine.Points(nil)
	logp, err := d.call(ctx, d.finePts, d.data.LogDensity)
	if err != nil {
		return fmt.Errorf("true log-density: %w", err)
	}
	if d.truth, err = tv.Softmax(nil, logp); err != nil {
		return fmt.Errorf("true density: %w", err)
	}
	logp, err = d.call(ctx, d.hist.SubPoints(nil, SubCells), d.data.LogDensity)
	if err != nil {
		return fmt.Errorf("true log-density on the sub-grid: %w", err)
	}
	for i, v := range logp {
		logp[i] = math.Exp(v)
	}
	if d.mass, err = tv.CellMasses(nil, logp, d.hist, SubCells); err != nil {
		return fmt.Errorf("true cell masses: %w", err)
	}
	d.inBoxMass = 0
	for _, m := range d.mass {
		d.inBoxMass += m
	}
	d.ready = true
	return nil
}

// noiseFloor computes, once, the mean and standard deviation of TV_samples
// over FloorReps sets of FloorDraws exact draws (data stream "diag:STAGE").
func (d *density) noiseFloor(ctx context.Context) error {
	if d.hasFloor {
		return nil
	}
	tvs := make([]float64, FloorReps)
	for i := range tvs {
		x, err := d.data.Next(ctx, sdk.NextRequest{N: FloorDraws, Stream: "diag:" + d.stage, Noise: 0, NoiseSet: true})
		if err != nil {
			return fmt.Errorf("exact draws: %w", err)
		}
		if tvs[i], err = SampleTV(x, d.hist, d.mass); err != nil {
			return fmt.Errorf("noise floor: %w", err)
		}
	}
	var sum, ss float64
	for _, v := range tvs {
		sum += v
	}
	d.floor = sum / FloorReps
	for _, v := range tvs {
		ss += (v - d.floor) * (v - d.floor)
	}
	d.floorSD = math.Sqrt(ss / (FloorReps - 1))
	d.hasFloor = true
	return nil
}

// evaluate computes TV_ebm and, with short-run samples at hand, TV_samples.
// With a sampler linked it first draws ShortRunDraws samples through it; when
// that fails the result carries SamplesError and no samples.
func (d *density) evaluate(ctx context.Context, t int) (densityResult, error) {
	if err := d.prepare(ctx); err != nil {
		return densityResult{}, err
	}
	if err := d.noiseFloor(ctx); err != nil {
		return densityResult{}, err
	}
	f, err := d.call(ctx, d.finePts, d.energy.Energy)
	if err != nil {
		return densityResult{}, fmt.Errorf("energy on the grid: %w", err)
	}
	scale := 2 / (d.eps * d.eps)
	for i, v := range f {
		f[i] = -v * scale // log q = -U + const
	}
	q, err := tv.Softmax(f, f)
	if err != nil {
		return densityResult{}, fmt.Errorf("model density: %w", err)
	}
	r := densityResult{T: t, Box: [][2]float64{{d.fine.X.Lo, d.fine.X.Hi}, {d.fine.Y.Lo, d.fine.Y.Hi}}, TVFloor: d.floor, TVFloorSD: d.floorSD, InBoxMass: d.inBoxMass, model: q}
	if r.TVEBM, err = tv.TV(d.truth, q); err != nil {
		return densityResult{}, fmt.Errorf("tv_ebm: %w", err)
	}
	if d.sampler != nil {
		x, err := d.drawSamples(ctx, t)
		if err != nil {
			r.SamplesError = err.Error()
		}
		d.samples = x // nil on failure: no stale samples in the metrics or figure
	}
	if d.samples != nil {
		if r.TVSamples, err = SampleTV(d.samples, d.hist, d.mass); err != nil {
			return densityResult{}, fmt.Errorf("tv_samples: %w", err)
		}
		r.HasSamples = true
	}
	d.last = r
	return r, nil
}

// drawSamples draws ShortRunDraws short-run samples at iteration t through
// the linked sampler on the stage's own stream "diag:STAGE" (so the
// training loop's draws are not disturbed), with its configured steps, the
// initial state samples_init (default: as configured) and its persistent
// bank only read, and checks they have shape [n, 2].
func (d *density) drawSamples(ctx context.Context, t int) (*sdk.Tensor, error) {
	x, err := shortRun(ctx, d.sampler, ShortRunDraws, t, d.samplesInit, d.stage)
	if err != nil {
		return nil, err
	}
	if sh := x.Shape; len(sh) != 2 || sh[1] != 2 || sh[0] == 0 {
		return nil, fmt.Errorf("attribute %q: sampler returned samples of shape %s, want [n 2] with n > 0: %w",
			attrSampler, sdk.FormatShape(sh), sdk.ErrShape)
	}
	return x, nil
}

// shortRun draws n chains at iteration t through the linked sampler on the
// stage's own stream "diag:STAGE" (so the training loop's draws are not
// disturbed), with the sampler's configured steps, the initial state init
// ("" as configured) and its persistent bank only read, and checks that an
// answer came and is well formed.
func shortRun(ctx context.Context, s sdk.SamplerLink, n, t int, init, stage string) (*sdk.Tensor, error) {
	res, err := s.Sample(ctx, sdk.SampleRequest{N: n, LeaveBank: true, T: t, Init: init, Stream: "diag:" + stage})
	if err != nil {
		return nil, fmt.Errorf("attribute %q: short-run samples: %w", attrSampler, err)
	}
	if res == nil || res.X == nil {
		return nil, fmt.Errorf("attribute %q: sampler returned no samples", attrSampler)
	}
	if err := res.X.Validate(); err != nil {
		return nil, fmt.Errorf("attribute %q: short-run samples: %w", attrSampler, err)
	}
	return res.X, nil
}

// call evaluates a per-point function of a linked stage on the (x, y) pairs
// of pts in batches of linkBatch float32 points and returns one finite value
// per point.
func (d *density) call(ctx context.Context, pts []float64, fn func(context.Context, *sdk.Tensor) (*sdk.Tensor, error)) ([]float64, error) {
	n := len(pts) / 2
	out := make([]float64, 0, n)
	for lo := 0; lo < n; lo += linkBatch {
		hi := min(n, lo+linkBatch)
		x := sdk.NewTensor(sdk.Float32, hi-lo, 2)
		for i := range x.F32 {
			x.F32[i] = float32(pts[2*lo+i])
		}
		y, err := fn(ctx, x)
		if err != nil {
			return nil, err
		}
		if err := y.Validate(); err != nil {
			return nil, err
		}
		if y.Len() != hi-lo {
			return nil, fmt.Errorf("%w: %d values for %d points", sdk.ErrShape, y.Len(), hi-lo)
		}
		if err := y.CheckFinite(); err != nil && !allNegInf(y) {
			return nil, err
		}
		for i := 0; i < y.Len(); i++ {
			out = append(out, y.At(i))
		}
	}
	return out, nil
}

// allNegInf reports whether every non-finite value of y is -Inf (a
// log-density of 0, which is allowed).
func allNegInf(y *sdk.Tensor) bool {
	for i := 0; i < y.Len(); i++ {
		if v := y.At(i); math.IsNaN(v) || math.IsInf(v, 1) {
			return false
		}
	}
	return true
}

// SampleTV returns the total variation between the samples x (shape [n, 2])
// and the true distribution given by its cell masses on g (see tv.SampleTV
// for the formula; samples outside the box count in n).
func SampleTV(x *sdk.Tensor, g tv.Grid, mass []float64) (float64, error) {
	if err := x.Validate(); err != nil {
		return 0, err
	}
	if len(x.Shape) != 2 || x.Shape[1] != 2 {
		return 0, fmt.Errorf("%w: samples of shape %s, want [n 2]", sdk.ErrShape, sdk.FormatShape(x.Shape))
	}
	xy := make([]float64, x.Len())
	for i := range xy {
		xy[i] = x.At(i)
	}
	return tv.SampleTV(xy, mass, g)
}

// validBox reports whether box holds a finite [lo, hi] with lo < hi for each
// of two axes.
func validBox(box [][2]float64) bool {
	if len(box) != 2 {
		return false
	}
	for _, b := range box {
		if !(b[0] < b[1]) || math.IsInf(b[0], 0) || math.IsInf(b[1], 0) {
			return false
		}
	}
	return true
}
