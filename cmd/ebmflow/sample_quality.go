package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ebmflow/ebmflow/plugins/diag-oscillation/oscillation/quality"
	"github.com/ebmflow/ebmflow/sdk"
)

// QualityFile is the long run's per-chunk sample quality (images only).
const QualityFile = "quality.jsonl"

// longRunRef is the number of held-out images the long run's chains are
// compared with (MMD2_u's reference set).
const longRunRef = 1000

// qualityLine is one line of quality.jsonl: the chains after step Step
// against held-out images (package quality's definitions).
type qualityLine struct {
	Step      int      `json:"step"`
	MMD2      *float64 `json:"mmd2_samples,omitempty"`
	Floor     float64  `json:"mmd2_floor"`
	FloorSD   float64  `json:"mmd2_floor_sd"`
	Sat       float64  `json:"sat_samples"`
	Beyond    float64  `json:"beyond_samples"`
	SatData   float64  `json:"sat_data"`
	Reference int      `json:"reference"`
	Error     string   `json:"error,omitempty"`
}

// longRunQuality measures a long run's chains after each chunk; it is off
// (nil) for data that are not images or have no held-out split.
type longRunQuality struct {
	base *quality.Baseline
	f    *os.File
	enc  *json.Encoder
	last *qualityLine
}

// newLongRunQuality draws the held-out baseline for n chains from the run's
// data stage (stream "longrun", the same images for every long run of the
// run) and creates quality.jsonl in dir. For data that are not images it
// returns nil; when the data stage cannot serve enough held-out images it
// says so on warn and returns nil.
func newLongRunQuality(ctx context.Context, data quality.Nexter, shape []int, n int, dir string, warn io.Writer) (*longRunQuality, error) {
	if len(shape) < 2 || n < 2 {
		return nil, nil
	}
	b, err := quality.NewBaseline(ctx, data, "longrun", longRunRef, n, quality.FloorReps)
	if err != nil {
		fmt.Fprintf(warn, "no sample quality numbers: %v\n", err)
		return nil, nil
	}
	f, err := os.Create(filepath.Join(dir, QualityFile))
	if err != nil {
		return nil, err
	}
	return &longRunQuality{base: b, f: f, enc: json.NewEncoder(f)}, nil
}

// measure writes the line of the chains x after step and returns it as
// progress-line text.
func (q *longRunQuality) measure(step int, x *sdk.Tensor) (string, error) {
	if q == nil {
		return "", nil
	}
	r, err := q.base.Evaluate(x)
	line := qualityLine{Step: step, Floor: q.base.Floor, FloorSD: q.base.FloorSD, Sat: r.Sat.Saturated, Beyond: r.Sat.Beyond,
		SatData: q.base.Data.Saturated, Reference: q.base.Ref.A.N}
	text := "  MMD^2 -"
	if err != nil {
		line.Error = err.Error()
	} else {
		line.MMD2 = &r.MMD2
		text = fmt.Sprintf("  MMD^2 %.4g (floor %.2g)", r.MMD2, q.base.Floor)
	}
	q.last = &line
	if err := q.enc.Encode(line); err != nil {
		return "", err
	}
	return text + fmt.Sprintf("  saturated %.3f (data %.3f)", line.Sat, line.SatData), nil
}

// close closes quality.jsonl.
func (q *longRunQuality) close() error {
	if q == nil {
		return nil
	}
	return q.f.Close()
}
