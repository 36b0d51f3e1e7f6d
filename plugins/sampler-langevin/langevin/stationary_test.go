package langevin

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// checkMoments compares the per-coordinate mean and variance of n independent
// chains with a Gaussian law N(mu, v). The chains are independent, so there
// are n independent draws per coordinate: the sample mean has standard error
// sqrt(v/n) and the sample variance of Gaussian draws has standard error
// v*sqrt(2/(n-1)). The tolerance is z standard errors. It also returns the
// variance tolerance so a caller can check that a wrong law would be rejected.
func checkMoments(t *testing.T, x *sdk.Tensor, mu []float64, v, z float64) (varTol float64) {
	t.Helper()
	n := float64(x.Batch())
	mean, variance := moments(x)
	meanTol := z * math.Sqrt(v/n)
	varTol = z * v * math.Sqrt(2/(n-1))
	for j := range mu {
		if d := math.Abs(mean[j] - mu[j]); d > meanTol {
			t.Errorf("coordinate %d: mean %.5f, want %.5f +- %.5f", j, mean[j], mu[j], meanTol)
		}
		if d := math.Abs(variance[j] - v); d > varTol {
			t.Errorf("coordinate %d: variance %.5f, want %.5f +- %.5f", j, variance[j], v, varTol)
		}
	}
	return varTol
}

// TestULAStationaryLaw checks the unadjusted chain against the exact
// stationary law of its discretisation: with F = (a/2)|x - mu|^2 the update is
// the AR(1) x' = (1-a)x + a*mu + eps*z, whose stationary law is
// N(mu, eps^2/(1 - (1-a)^2)) per coordinate (not the continuous-time target
// N(mu, eps^2/(2a)) of U = F/(eps^2/2)).
func TestULAStationaryLaw(t *testing.T) {
	const eps, n, z = 0.3, 4000, 5
	mu := []float64{1, -2}
	for _, a := range []float64{0.5, 0.8, 1.5} {
		t.Run(fmt.Sprint("a=", a), func(t *testing.T) {
			// Burn-in: the initial offset (at most |mu|+1 = 3) decays as
			// |1-a|^L; 120 steps leave at most 3*0.5^120 < 1e-35.
			q := quad(a, mu, nil)
			s := configured(t, config(t, 7, map[string]any{
				"epsilon": eps, "steps": 120, "batch": n, "dtype": "float64",
			}, []int{2}, q, nil))
			res, err := s.Sample(context.Background(), sdk.SampleRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if res.AcceptRate != -1 {
				t.Errorf("AcceptRate = %v without MALA, want -1", res.AcceptRate)
			}
			v := eps * eps / (1 - (1-a)*(1-a))
			tol := checkMoments(t, res.X, mu, v, z)
			// The test must be able to tell the discretised law from the
			// continuous-time one.
			if cont := eps * eps / (2 * a); math.Abs(cont-v) <= 2*tol {
				t.Fatalf("case cannot separate laws: %v vs %v with tolerance %v", v, cont, tol)
			}
		})
	}
}

// TestMALAExactTarget checks that MALA samples the exact target
// p ∝ exp(-U), U = F/(eps^2/2) = (a/eps^2)|x - mu|^2: N(mu, eps^2/(2a)) per
// coordinate, which the unadjusted chain misses (its variance is
// eps^2/(1-(1-a)^2)).
func TestMALAExactTarget(t *testing.T) {
	const eps, a, n, z = 0.3, 0.6, 4000, 5
	mu := []float64{0.5, -0.5}
	q := quad(a, mu, nil)
	s := configured(t, config(t, 11, map[string]any{
		"epsilon": eps, "steps": 300, "batch": n, "dtype": "float64", "mala": true,
	}, []int{2}, q, nil))
	res, err := s.Sample(context.Background(), sdk.SampleRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !(res.AcceptRate > 0 && res.AcceptRate <= 1) {
		t.Fatalf("AcceptRate = %v, want in (0, 1]", res.AcceptRate)
	}
	if q.GradCalls() != 301 {
		t.Errorf("MALA made %d gradient calls for 300 steps, want 301", q.GradCalls())
	}
	t.Logf("MALA acceptance rate %.4f", res.AcceptRate)
	v := eps * eps / (2 * a)
	tol := checkMoments(t, res.X, mu, v, z)
	if ula := eps * eps / (1 - (1-a)*(1-a)); math.Abs(ula-v) <= 2*tol {
		t.Fatalf("case cannot separate MALA from ULA: %v vs %v with tolerance %v", v, ula, tol)
	}
}
