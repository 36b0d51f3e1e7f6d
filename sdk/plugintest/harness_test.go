package plugintest

import (
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// defectiveSuite is the suite of testdata/defective, a quadratic energy
// that breaks the rule $PLUGINTEST_DEFECT names.
var defectiveSuite = Suite{
	Package: "./testdata/defective",
	Kind:    sdk.KindEnergy,
	Config:  map[string]any{"a": 2.0},
	Bad:     []BadConfig{{Set: map[string]any{"a": -1.0}, Path: "a"}},
	Calls:   2,
	// 64 MiB of state for the statememory check.
	LargeState: map[string]any{"state_mib": 64},
}

// TestHarnessPassesAConformingPlugin runs every check on the plugin with no
// defect, through Run as an author would.
func TestHarnessPassesAConformingPlugin(t *testing.T) {
	t.Setenv("PLUGINTEST_DEFECT", "")
	Run(t, defectiveSuite)
}

// TestHarnessCatchesEachDefect gives the harness a plugin that breaks one
// rule at a time and checks that the check for that rule fails, saying why.
func TestHarnessCatchesEachDefect(t *testing.T) {
	e, err := newEnv(t, defectiveSuite)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		defect, check, want string
	}{
		{"stdout", "shapes", `wrote "computing a gradient", which is not a log line`},
		{"random", "determinism", "two fresh processes with seed 123 differ"},
		{"shape", "shapes", "Grad: dF/dx: shape [4], want [4 2]"},
		{"state", "state", "does not continue as the original did"},
		{"nanpanic", "malformed", "the plugin crashed instead of returning an error"},
		{"nodoc", "schema", `attribute "a": no doc string`},
		{"bounds", "schema", `attribute "a": default 1: 1 is above the maximum 0.5 (range (0, 0.5])`},
		{"nopath", "configure", "want an error problem with path [a]"},
		{"sideeffect", "malformed", "the refused calls changed the stage"},
		{"statecopy", "statememory", "it builds a second copy of its state"},
	}
	for _, c := range cases {
		t.Run(c.defect, func(t *testing.T) {
			t.Setenv("PLUGINTEST_DEFECT", c.defect)
			if c.check == "schema" {
				// The schema check reads the schema `describe` printed at build.
				de, err := newEnv(t, defectiveSuite)
				if err != nil {
					t.Fatal(err)
				}
				err = de.checkSchema(t)
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("schema check: %v\nwant an error containing %q", err, c.want)
				}
				return
			}
			var fn func(*env, testing.TB) error
			for _, ch := range checks {
				if ch.name == c.check {
					fn = ch.fn
				}
			}
			err := fn(e, t)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%s check: %v\nwant an error containing %q", c.check, err, c.want)
			}
			t.Logf("%s check: %v", c.check, err)
		})
	}
}
