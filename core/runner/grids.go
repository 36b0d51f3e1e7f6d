package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ebmflow/ebmflow/core/grid"
	"github.com/ebmflow/ebmflow/sdk"
)

// writeGrids draws the iteration's negatives and positives into samples/,
// titled with the kind and the iteration: a grid sized to the batch (8x8
// for 64, at most 10x10) for image batches, a scatter plot with axes on the
// data's plot box for 2-D batches. A figure that cannot be drawn is logged,
// not fatal.
func (r *Run) writeGrids(ctx context.Context, it int, pos, neg *sdk.Tensor) {
	dir := filepath.Join(r.Dir, "samples")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.log.Warn().Err(err).Msg("sample grid")
		return
	}
	for _, x := range []struct {
		name string
		t    *sdk.Tensor
	}{{"negatives", neg}, {"positives", pos}} {
		path := filepath.Join(dir, fmt.Sprintf("%s-%09d.png", x.name, it))
		var err error
		title := fmt.Sprintf("%s, t = %d", x.name, it)
		switch len(x.t.Shape) {
		case 4:
			err = grid.ImagesFigure(path, x.t, fmt.Sprintf("%s (%d samples)", title, x.t.Batch()))
		case 2:
			err = grid.PointsFigure(path, x.t, r.plotBox(ctx), title)
		default:
			err = fmt.Errorf("no figure for samples of shape %s", sdk.FormatShape(x.t.Shape))
		}
		if err != nil {
			r.log.Warn().Err(err).Str("file", path).Msg("sample grid")
		}
	}
}

// plotBox is the data stage's plot box for 2-D data, or [-1, 1] on both
// axes when it declares none.
func (r *Run) plotBox(ctx context.Context) [2][2]float64 {
	if r.box == nil {
		r.box = &[2][2]float64{{-1, 1}, {-1, 1}}
		if info, err := r.proc(r.P.Train.Data).Describe(ctx); err == nil && len(info.Box) == 2 {
			r.box = (*[2][2]float64)(info.Box)
		}
	}
	return *r.box
}
