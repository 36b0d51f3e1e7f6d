package oscillation

import (
	"strings"
	"testing"

	"gonum.org/v1/plot"
)

// TestIterationTicks checks that the iteration axis labels whole numbers
// without decimals where gonum's default ticks print "2500.00".
func TestIterationTicks(t *testing.T) {
	for _, r := range [][2]float64{{1, 20000}, {1, 19999}, {1, 18000}, {0, 1500}, {2925, 20000}, {1, 7}} {
		var def []string
		for _, tk := range (plot.DefaultTicks{}).Ticks(r[0], r[1]) {
			def = append(def, tk.Label)
		}
		var got []string
		for _, tk := range (iterationTicks{}).Ticks(r[0], r[1]) {
			if tk.Label == "" {
				continue
			}
			if strings.Contains(tk.Label, ".") {
				t.Errorf("range %v: label %q has decimals (default labels %q)", r, tk.Label, def)
			}
			got = append(got, tk.Label)
		}
		if len(got) < 2 {
			t.Errorf("range %v: %d labelled ticks %q, want at least 2", r, len(got), got)
		}
	}
	got := (iterationTicks{}).Ticks(1, 20000)
	def := (plot.DefaultTicks{}).Ticks(1, 20000)
	if len(got) != len(def) {
		t.Fatalf("%d ticks, want the default's %d", len(got), len(def))
	}
	for i := range got {
		if got[i].Value != def[i].Value {
			t.Errorf("tick %d at %v, want the default's %v", i, got[i].Value, def[i].Value)
		}
	}
}
