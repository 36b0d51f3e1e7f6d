// Package plugintest is a conformance harness for ebmflow plugins. A plugin
// author calls Run from an ordinary go test:
//
//	func TestConformance(t *testing.T) {
//		plugintest.Run(t, plugintest.Suite{
//			Package: ".",
//			Kind:    sdk.KindSampler,
//			Config:  map[string]any{"epsilon": 0.1, "steps": 10},
//			Bad:     []plugintest.BadConfig{{Set: map[string]any{"epsilon": -1.0}, Path: "epsilon"}},
//			Links:   []plugintest.Link{plugintest.QuadraticEnergy("energy", nil)},
//		})
//	}
//
// Run builds the plugin's main package with `go build`, starts it as a real
// process through the ebmflow host (core/host: handshake, protocol check,
// mutual TLS, brokered links), and checks, each in its own subtest:
//
//   - info: name, kind, semantic version and protocol, over gRPC and from
//     `ebmflow-plugin-NAME describe`, which must agree;
//   - schema: attribute names, types, defaults that fit their types, a doc
//     string for every attribute;
//   - configure: the good configuration gives no error problem and
//     declares the conventional shapes ("input" for an energy, "sample" for a
//     sampler or data stage); each bad configuration gives an error
//     problem whose attribute path names the attribute at fault;
//   - shapes: what the calls return matches the declared shapes (energy
//     Energy/Grad/Update, sampler Sample, data Describe/Next/LogDensity,
//     diagnostics Observe/Report) and is finite;
//   - determinism: the same seed in two fresh processes gives bit-identical
//     results and states;
//   - state: SaveState, then LoadState into a fresh process, continues bit for
//     bit; a corrupt state is refused without crashing;
//   - statememory (with Suite.LargeState): SaveState of a large state
//     does not raise the plugin's peak memory by half the state's size
//     (VmHWM of the process, reset just before): no second copy;
//   - malformed: wrong shapes, wrong dtypes and NaN inputs give errors, not
//     crashes, and leave the plugin working;
//   - and throughout: nothing is written to stdout (or raw to stderr) outside
//     the handshake (logs go through sdk.Logger), and every process shuts down
//     cleanly when asked.
//
// Stages the plugin references (an energy for a sampler, say) are real plugin
// processes too: QuadraticEnergy and GaussianData give the small test plugins
// of this repository, and any other plugin can be linked by its package path.
package plugintest
