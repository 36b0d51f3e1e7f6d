package oscillation

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestDensityHistory: each report with a density evaluation keeps a copy
// of density.png named by the evaluation's iteration.
func TestDensityHistory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := densityPlugin(t, dir, 0)
	observeAll(t, p, records(1, iid(1000, 31), nil, 2))
	if _, err := p.Report(ctx, false); err != nil {
		t.Fatal(err)
	}
	t1 := p.dens.last.T
	observeAll(t, p, records(1001, iid(1000, 32), nil, 3))
	if _, err := p.Report(ctx, true); err != nil {
		t.Fatal(err)
	}
	t2 := p.dens.last.T
	if t1 == t2 {
		t.Fatalf("one evaluation at t = %d for both reports", t1)
	}
	latest, err := os.ReadFile(filepath.Join(dir, DensityFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range []int{t1, t2} {
		b, err := os.ReadFile(filepath.Join(dir, DensityHistoryDir, fmt.Sprintf("density-%09d.png", it)))
		if err != nil {
			t.Fatalf("no copy for iteration %d: %v", it, err)
		}
		if it == t2 && !bytes.Equal(b, latest) {
			t.Errorf("the copy for iteration %d differs from density.png", it)
		}
	}
}
