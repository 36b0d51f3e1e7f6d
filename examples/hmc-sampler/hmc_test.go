package main

import (
	"context"
	"math"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
	"github.com/ebmflow/ebmflow/sdk/plugintest"
)

// energy is the quadratic test energy F(x) = (a/2)|x - mu|^2 on R^2 with
// a = 2, mu = 0.5: at temperature 1 the target is N(0.5, 1/2) per
// coordinate.
var energy = plugintest.QuadraticEnergy("energy", map[string]any{"a": 2.0, "mu": 0.5, "shape": []int{2}})

// TestConformance runs ebmflow's plugin conformance harness on this plugin:
// built with go build and started as a real process through the host.
func TestConformance(t *testing.T) {
	plugintest.Run(t, plugintest.Suite{
		Package: ".",
		Kind:    sdk.KindSampler,
		Config:  map[string]any{"steps": 3, "leapfrog": 3, "step_size": 0.2, "batch": 8},
		Bad: []plugintest.BadConfig{
			{Set: map[string]any{"step_size": 0.0}, Path: "step_size"},
			{Set: map[string]any{"temperature": -1.0}, Path: "temperature"},
			{Set: map[string]any{"leapfrog": 0}, Path: "leapfrog"},
		},
		Links: []plugintest.Link{energy},
	})
}

// TestSamplesTheGaussian draws 1,000 chains of 40 transitions through the
// host and checks the mean and variance of the target N(0.5, 1/2) per
// coordinate. Tolerances: 2,000 coordinates give standard errors of 0.016
// for the mean and 0.016 for the variance; the bounds are about 5 of them.
func TestSamplesTheGaussian(t *testing.T) {
	p := plugintest.Start(t, plugintest.Suite{
		Package: ".",
		Kind:    sdk.KindSampler,
		Config:  map[string]any{"steps": 40, "leapfrog": 5, "step_size": 0.3, "batch": 1000},
		Links:   []plugintest.Link{energy},
	})
	res, err := p.Sample(context.Background(), sdk.SampleRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.X.Shape; len(got) != 2 || got[0] != 1000 || got[1] != 2 {
		t.Fatalf("shape %v", got)
	}
	var s, s2 float64
	for i := range res.X.Len() {
		v := res.X.At(i)
		s += v
		s2 += v * v
	}
	n := float64(res.X.Len())
	mean := s / n
	variance := s2/n - mean*mean
	if math.Abs(mean-0.5) > 0.08 || math.Abs(variance-0.5) > 0.08 {
		t.Errorf("mean %.4f, variance %.4f; want 0.5 and 0.5", mean, variance)
	}
	if res.AcceptRate < 0.5 || res.AcceptRate > 1 {
		t.Errorf("acceptance rate %.3f: too low for h = 0.3 on this target", res.AcceptRate)
	}
	// r_t: E|dF/dx| = a E|x - mu| with x - mu ~ N(0, I/2) in 2-D, the mean
	// of a Rayleigh(sd 1/sqrt 2) variable, sqrt(pi)/2 = 0.886 (times a = 2).
	if want := 2 * math.Sqrt(math.Pi) / 2; math.Abs(res.R-want) > 0.25 {
		t.Errorf("r_t = %.3f, want about %.3f", res.R, want)
	}
	t.Logf("mean %.4f, variance %.4f, acceptance %.3f, r_t %.3f", mean, variance, res.AcceptRate, res.R)
}
