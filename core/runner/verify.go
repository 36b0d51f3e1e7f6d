package runner

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
)

// Difference is the first place where a rerun's metrics differ.
type Difference struct {
	T                 int
	Field             string
	Original, Rerun   float64
	OriginalN, RerunN int // metric counts, when they differ
}

func (d *Difference) Error() string {
	if d.Field == "" {
		return fmt.Sprintf("the original has %d iterations of metrics, the rerun %d", d.OriginalN, d.RerunN)
	}
	return fmt.Sprintf("iteration %d, field %s: original %s, rerun %s", d.T, d.Field, fmtFloat(d.Original), fmtFloat(d.Rerun))
}

// VerifyResult is the outcome of Verify.
type VerifyResult struct {
	Iterations int
	RerunDir   string
	Diff       *Difference
}

// Verify reruns the run in dir from scratch (same pipeline source, variables,
// seed and plugin binaries) for its first n iterations (all recorded ones if
// n <= 0) into a fresh folder, and compares the metrics: bit for bit when
// tol is 0, else within relative tolerance tol. Wall time is not compared.
func Verify(ctx context.Context, dir string, n int, tol float64, opts Options) (*VerifyResult, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	orig, err := ReadMetrics(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		return nil, err
	}
	if n <= 0 || n > len(orig) {
		if n > len(orig) {
			return nil, fmt.Errorf("the run has %d iterations of metrics; cannot verify %d", len(orig), n)
		}
		n = len(orig)
	}
	if n == 0 {
		return nil, fmt.Errorf("the run in %s has no metrics to verify", dir)
	}
	rerunDir, err := os.MkdirTemp("", "ebmflow-verify-")
	if err != nil {
		return nil, err
	}
	r, err := reopen(ctx, rerunDir, m, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	r.Manifest = m
	if err := m.write(rerunDir); err != nil {
		return nil, err
	}
	if r.metrics, err = openMetrics(filepath.Join(rerunDir, "metrics.jsonl"), 0); err != nil {
		return nil, err
	}
	r.opts.StopAfter = n
	if err := r.Train(ctx); err != nil {
		return nil, fmt.Errorf("rerun: %w", err)
	}
	r.metrics.sync()
	again, err := ReadMetrics(filepath.Join(rerunDir, "metrics.jsonl"))
	if err != nil {
		return nil, err
	}
	res := &VerifyResult{Iterations: n, RerunDir: rerunDir, Diff: Compare(orig[:n], again, tol)}
	return res, nil
}

// Compare returns the first difference between two metric sequences, or nil.
// tol 0 means bit for bit; otherwise |a-b| <= tol*max(|a|,|b|).
func Compare(a, b []Metric, tol float64) *Difference {
	if len(a) != len(b) {
		return &Difference{OriginalN: len(a), RerunN: len(b)}
	}
	for i := range a {
		if a[i].T != b[i].T {
			return &Difference{T: a[i].T, Field: "t", Original: float64(a[i].T), Rerun: float64(b[i].T)}
		}
		fa, fb := a[i].Fields(), b[i].Fields()
		if len(fa) != len(fb) {
			return &Difference{T: a[i].T, Field: "extra (different metric names)", Original: float64(len(fa)), Rerun: float64(len(fb))}
		}
		for k := range fa {
			x, y := fa[k].Value, fb[k].Value
			if fa[k].Name != fb[k].Name || !same(x, y, tol) {
				return &Difference{T: a[i].T, Field: fa[k].Name, Original: x, Rerun: y}
			}
		}
	}
	return nil
}

func same(x, y, tol float64) bool {
	if tol == 0 {
		return math.Float64bits(x) == math.Float64bits(y)
	}
	if x == y {
		return true
	}
	return math.Abs(x-y) <= tol*math.Max(math.Abs(x), math.Abs(y))
}
