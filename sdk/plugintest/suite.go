package plugintest

import (
	"fmt"
	"testing"
	"time"

	"github.com/ebmflow/ebmflow/sdk"
)

// Suite describes the plugin under test and the inputs its checks need.
type Suite struct {
	// Package is the plugin's main package as `go build` takes it, relative
	// to the calling test's folder ("." when the test sits beside main.go)
	// or an import path.
	Package string
	// Kind is the kind the plugin must report and implement.
	Kind sdk.Kind
	// Config is a good configuration of the stage block: attribute values as
	// Go values (float64 or int, string, bool, []any), encoded as JSON the
	// way the host sends them. Stage references need not appear: Links
	// supply them.
	Config map[string]any
	// Bad lists configurations Configure must refuse.
	Bad []BadConfig
	// Links are the stages the plugin's stage references, each a real
	// plugin process. Every required stage-reference attribute of the
	// schema must have one.
	Links []Link
	// Seed is the stage's seed; 123 if zero.
	Seed uint64
	// Batch is the batch size of the calls; 4 if zero.
	Batch int
	// Calls is how many calls (or rounds of calls) the determinism and state
	// checks make before and after saving the state; 3 if zero.
	Calls int
	// DType is the element type of the tensors the harness sends; Float32
	// if zero.
	DType sdk.DType
	// LR is the learning rate of an energy's Update calls; 1e-3 if zero.
	LR float64
	// Records, for a diagnostics plugin, returns training record t (1-based);
	// a synthetic oscillating series if nil.
	Records func(t int) sdk.Record
	// RecordsPerCall is how many records each Observe call carries; 10 if
	// zero.
	RecordsPerCall int
	// LargeState, if set, is merged over Config to give the stage a large
	// state (at least 32 MiB of tensors: a sampler's bank of many chains,
	// say). The "statememory" check then measures the plugin process
	// around a SaveState and fails if its peak memory grows by half the
	// state's size or more: the state must not be copied whole to be
	// sent (sdk.StateSaver). Linux only; skipped when nil.
	LargeState map[string]any
	// CallTimeout bounds every call; 2 minutes if zero. A call past it kills
	// the plugin and fails the check.
	CallTimeout time.Duration
}

// BadConfig is a configuration Configure must refuse with an error
// problem (sdk.Problem) about a given attribute.
type BadConfig struct {
	// Set is merged over Suite.Config; a nil value removes the attribute.
	Set map[string]any
	// Path is the attribute the error problem must name (its Path[0]).
	Path string
}

// Link is a stage the plugin's stage references, started as a real plugin
// process and connected through the host's broker.
type Link struct {
	// Attribute is the stage-reference attribute, e.g. "energy".
	Attribute string
	// Kind is the linked stage's kind.
	Kind sdk.Kind
	// Package is the linked plugin's main package (see Suite.Package).
	Package string
	// Name, when set, names the built binary ebmflow-plugin-NAME whatever
	// the plugin's Info says (the repository's test kit needs it).
	Name string
	// Config is the linked stage's configuration.
	Config map[string]any
	// Links are the linked stage's own links, started before it (a
	// sampler that needs an energy, say): a stage whose schema requires a
	// link can be linked too.
	Links []Link
}

const testkit = "github.com/ebmflow/ebmflow/internal/testplugins/cmd/ebmflow-plugin-testkit"

// QuadraticEnergy links the repository's quadratic test energy,
// F(x) = (a/2)|x - mu|^2 per sample, attributes a (default 1), mu (default
// 0), epsilon (default 0.1, for d_st) and shape (per-sample input shape,
// default [2]).
func QuadraticEnergy(attr string, cfg map[string]any) Link {
	return Link{Attribute: attr, Kind: sdk.KindEnergy, Package: testkit, Name: "testenergy", Config: cfg}
}

// GaussianData links the repository's Gaussian test data set, N(mean, sd^2)
// samples of a given shape with an exact log-density: attributes mean
// (default 0), sd (default 1) and shape (default [2]).
func GaussianData(attr string, cfg map[string]any) Link {
	return Link{Attribute: attr, Kind: sdk.KindData, Package: testkit, Name: "testdata", Config: cfg}
}

// Run builds the plugin and runs every check as a subtest of t: info,
// schema, configure, shapes, determinism, state, malformed and statememory. Each check
// starts fresh plugin processes through the host, and each fails if the
// plugin wrote to stdout or did not shut down cleanly.
func Run(t *testing.T, s Suite) {
	t.Helper()
	e, err := newEnv(t, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if err := c.fn(e, t); err != nil {
				t.Error(err)
			}
		})
	}
}

type check struct {
	name string
	fn   func(*env, testing.TB) error
}

var checks = []check{
	{"info", (*env).checkInfo},
	{"schema", (*env).checkSchema},
	{"configure", (*env).checkConfigure},
	{"shapes", (*env).checkShapes},
	{"determinism", (*env).checkDeterminism},
	{"state", (*env).checkState},
	{"malformed", (*env).checkMalformed},
	{"statememory", (*env).checkStateMemory},
}

func (s *Suite) defaults() error {
	if s.Package == "" {
		return fmt.Errorf("plugintest: Suite.Package is empty")
	}
	switch s.Kind {
	case sdk.KindEnergy, sdk.KindSampler, sdk.KindData, sdk.KindDiagnostics:
	default:
		return fmt.Errorf("plugintest: Suite.Kind %q is not one of %v", s.Kind, sdk.Kinds)
	}
	if s.Seed == 0 {
		s.Seed = 123
	}
	if s.Batch == 0 {
		s.Batch = 4
	}
	if s.Calls == 0 {
		s.Calls = 3
	}
	if s.DType == 0 {
		s.DType = sdk.Float32
	}
	if s.LR == 0 {
		s.LR = 1e-3
	}
	if s.RecordsPerCall == 0 {
		s.RecordsPerCall = 10
	}
	if s.Records == nil {
		s.Records = syntheticRecord
	}
	if s.CallTimeout == 0 {
		s.CallTimeout = 2 * time.Minute
	}
	return nil
}
