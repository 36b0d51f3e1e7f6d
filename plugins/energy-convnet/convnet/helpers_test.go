package convnet

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// attrs is a stage block for tests.
type attrs map[string]any

// newConfig builds a config from attrs with the given seed.
func newConfig(t testing.TB, seed uint64, a attrs) *sdk.Config {
	t.Helper()
	cfg := &sdk.Config{Stage: "energy", Seed: seed, Values: map[string]json.RawMessage{}}
	for k, v := range a {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal %s: %v", k, err)
		}
		cfg.Values[k] = b
	}
	return cfg
}

// configured returns a configured plugin or fails the test.
func configured(t testing.TB, seed uint64, a attrs) *Plugin {
	t.Helper()
	p := New()
	if _, d := p.Configure(context.Background(), newConfig(t, seed, a)); d.HasErrors() {
		t.Fatalf("configure %v: %v", a, d.Err())
	}
	return p
}

// smallVanilla is a vanilla net small enough for finite differences.
func smallVanilla(size int, dtype string) attrs {
	return attrs{"net": "vanilla", "n_f": 2, "image_size": size, "channels": 1, "epsilon": 0.015, "dtype": dtype}
}

// rgbVanilla is a small three-channel vanilla net: its input is NCHW with
// more than one channel, which the first layer reorders.
func rgbVanilla(dtype string) attrs {
	return attrs{"net": "vanilla", "n_f": 2, "image_size": 32, "channels": 3, "epsilon": 0.015, "dtype": dtype}
}

// toy is the toy MLP.
func toy(dtype string) attrs {
	return attrs{"net": "toy", "epsilon": 0.125, "dtype": dtype}
}

// randomBatch returns n samples of the plugin's input shape, uniform in
// [-1, 1), from a seeded PCG source.
func randomBatch(p *Plugin, n int, seed uint64) *sdk.Tensor {
	rng := rand.New(rand.NewPCG(seed, 7))
	shape := append([]int{n}, p.arch.Input...)
	x := sdk.NewTensor(p.dt, shape...)
	for i := 0; i < x.Len(); i++ {
		x.Set(i, 2*rng.Float64()-1)
	}
	return x
}

// smallNonlocal is a nonlocal net small enough for finite differences.
func smallNonlocal(dtype string) attrs {
	return attrs{"net": "nonlocal", "n_f": 4, "image_size": 32, "channels": 1, "epsilon": 0.015, "dtype": dtype}
}

func name(a attrs) string {
	if a["net"] == "toy" {
		return fmt.Sprintf("toy/%v", a["dtype"])
	}
	return fmt.Sprintf("%v%vx%v/nf%v/%v", a["net"], a["channels"], a["image_size"], a["n_f"], a["dtype"])
}

// randomWeights returns a weights-only state (every parameter under its
// state_dict name, no Meta) drawn from U(-2/sqrt(fan_in), 2/sqrt(fan_in)),
// the layers that start at zero included, so that every path of the net
// carries gradient.
func randomWeights(p *Plugin, seed uint64) *sdk.State {
	rng := rand.New(rand.NewPCG(seed, 3))
	st := &sdk.State{Tensors: map[string]*sdk.Tensor{}}
	for i, q := range p.params {
		b := 2 / math.Sqrt(float64(p.arch.Layers[i/2].fanIn()))
		v := sdk.NewTensor(p.dt, q.Shape...)
		for j := 0; j < v.Len(); j++ {
			v.Set(j, b*(2*rng.Float64()-1))
		}
		st.Tensors[q.Name] = v
	}
	return st
}

func mathSqrt(x float64) float64 { return math.Sqrt(x) }

// fdWeights returns, for each index j of the weights w (a parameter's
// storage in p), the analytic gradient g[j] and the central difference
// quotient of the loss over +-fdStep in w[j], restoring w[j] after.
func fdWeights(t *testing.T, p *Plugin, pos, neg *sdk.Tensor, w, g []float64, idx []int) (an, fd []float64) {
	t.Helper()
	for _, j := range idx {
		w0 := w[j]
		w[j] = w0 + fdStep
		p.weightsChanged()
		lp := loss(t, p, pos, neg)
		w[j] = w0 - fdStep
		p.weightsChanged()
		lm := loss(t, p, pos, neg)
		w[j] = w0
		p.weightsChanged()
		an = append(an, g[j])
		fd = append(fd, (lp-lm)/(2*fdStep))
	}
	return an, fd
}
