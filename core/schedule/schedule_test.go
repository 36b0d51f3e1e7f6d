package schedule

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
)

func mustNew(t testing.TB, c Config) *Schedule {
	t.Helper()
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// values returns lr_1 .. lr_n.
func values(s *Schedule, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = s.LR()
		s.Step()
	}
	return v
}

// TestExpFloor pins the reference's remark that decay 0.99995 from 0.1
// reaches 5e-4 after about 106k iterations. The exact iteration, 105965, and
// lr_105964 come from the same recurrence run in CPython (float64
// multiplication, as the PyTorch reference does):
//
//	lr, t = 0.1, 1
//	while lr > 5e-4: lr, t = max(5e-4, lr*0.99995), t+1
//
// It agrees with the closed form 1 + ln(5e-3)/ln(0.99995) = 105964.7.
func TestExpFloor(t *testing.T) {
	s := mustNew(t, Config{Kind: "exp", Initial: 0.1, Decay: 0.99995, Min: 5e-4})
	prev := s.LR()
	for s.LR() > 5e-4 {
		prev = s.LR()
		s.Step()
	}
	if s.T() != 105965 {
		t.Fatalf("lr reaches the floor at t=%d, want 105965", s.T())
	}
	if s.LR() != 5e-4 || !(prev > 5e-4) {
		t.Fatalf("lr_105964=%v lr_105965=%v", prev, s.LR())
	}
	for range 1000 {
		s.Step()
		if s.LR() != 5e-4 {
			t.Fatalf("lr left the floor at t=%d: %v", s.T(), s.LR())
		}
	}
}

// TestAppendixB: 0.05 annealed to 0.0005 over 100,000 updates. The decay and
// the lr values are CPython's, with the decay computed as
// (0.0005/0.05)**(1/100000) and the lr by repeated multiplication.
func TestAppendixB(t *testing.T) {
	d, err := SolveDecay(0.05, 0.0005, 100000)
	if err != nil {
		t.Fatal(err)
	}
	const pyDecay = 0.9999539493585035
	if math.Abs(d-pyDecay) > 1e-16 {
		t.Fatalf("SolveDecay = %.17g, want %.17g", d, pyDecay)
	}
	// Without a floor, lr_100001 is 0.0005 up to rounding, and every value
	// is CPython's bit for bit.
	s := mustNew(t, Config{Kind: "exp", Initial: 0.05, Decay: pyDecay})
	for s.T() < 100000 {
		s.Step()
	}
	if s.LR() != 0.0005000230263808154 {
		t.Fatalf("lr_100000 = %.17g, want 0.0005000230263808154", s.LR())
	}
	s.Step()
	if s.LR() != 0.0004999999999996875 {
		t.Fatalf("lr_100001 = %.17g, want 0.0004999999999996875", s.LR())
	}
	// With the floor at 0.0005 the floor is hit at t = 100001 exactly, with
	// the decay SolveDecay returns.
	s = mustNew(t, Config{Kind: "exp", Initial: 0.05, Decay: d, Min: 0.0005})
	for s.T() < 100000 {
		s.Step()
	}
	// One more decay lands on 0.0005 up to rounding (CPython: 3e-16 below).
	if !(s.LR() > 0.0005) || math.Abs(s.LR()*d-0.0005) > 1e-15 {
		t.Fatalf("lr_100000 = %.17g, want 0.0005/decay", s.LR())
	}
	s.Step()
	if s.LR() != 0.0005 {
		t.Fatalf("lr_100001 = %.17g, want 0.0005", s.LR())
	}
}

func TestKinds(t *testing.T) {
	cases := []struct {
		cfg  Config
		want []float64 // lr_1, lr_2, ...
		tol  float64
	}{
		{Config{Initial: 0.3}, []float64{0.3, 0.3, 0.3}, 0},
		{Config{Kind: "exp", Initial: 1, Decay: 0.5, Min: 0.2}, []float64{1, 0.5, 0.25, 0.2, 0.2}, 0},
		// (1 - 0.1) spread over 9 iterations: 0.1 per iteration.
		{Config{Kind: "linear", Initial: 1, Final: 0.1, Iterations: 9},
			[]float64{1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.1, 0.1}, 1e-15},
		// (1+cos(pi k/4))/2 for k = 0..4: 1, (2+sqrt2)/4, 1/2, (2-sqrt2)/4, 0;
		// with min 0.5 and lr 2: 0.5 + 1.5*that.
		{Config{Kind: "cosine", Initial: 1, Iterations: 4},
			[]float64{1, 0.8535533905932737, 0.5, 0.14644660940672624, 0, 0}, 1e-15},
		{Config{Kind: "cosine", Initial: 2, Min: 0.5, Iterations: 4},
			[]float64{2, 1.7803300858899105, 1.25, 0.7196699141100894, 0.5, 0.5}, 1e-15},
		{Config{Kind: "step", Initial: 1, Gamma: 0.5, StepSize: 3},
			[]float64{1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125}, 0},
		// Warm-up over 4 iterations from 0 to the constant 0.1.
		{Config{Initial: 0.1, Warmup: 4}, []float64{0, 0.025, 0.05, 0.075, 0.1, 0.1}, 1e-16},
		// Warm-up from 0.01 to b_5 = 0.5^4 = 0.0625 of an exp schedule, which
		// has decayed meanwhile and continues from there.
		{Config{Kind: "exp", Initial: 1, Decay: 0.5, Warmup: 4, WarmupStart: 0.01},
			[]float64{0.01, 0.023125, 0.03625, 0.049375, 0.0625, 0.03125, 0.015625}, 1e-16},
		// Warm-up of 2 into a step schedule: b_3 = 1, then the decay at t=4.
		{Config{Kind: "step", Initial: 1, Gamma: 0.1, StepSize: 3, Warmup: 2},
			[]float64{0, 0.5, 1, 0.1, 0.1, 0.1, 0.010000000000000002}, 0},
		// Warm-up longer than a linear ramp: it ends at the final rate.
		{Config{Kind: "linear", Initial: 1, Final: 0.5, Iterations: 2, Warmup: 4},
			[]float64{0, 0.125, 0.25, 0.375, 0.5, 0.5}, 1e-16},
	}
	for _, c := range cases {
		got := values(mustNew(t, c.cfg), len(c.want))
		for i, w := range c.want {
			if math.Abs(got[i]-w) > c.tol {
				t.Errorf("%+v: lr_%d = %.17g, want %.17g", c.cfg, i+1, got[i], w)
			}
		}
	}
}

// TestResume checks that saving the state mid-run, going through JSON and
// restoring into a fresh schedule continues bit for bit like a run that was
// never interrupted, for every kind, before, during and after the warm-up.
func TestResume(t *testing.T) {
	cfgs := []Config{
		{Initial: 0.01},
		{Kind: "exp", Initial: 0.1, Decay: 0.99995, Min: 5e-4},
		{Kind: "exp", Initial: 0.1, Decay: 0.999, Min: 0.05, Warmup: 50, WarmupStart: 0.001},
		{Kind: "exp", Initial: 1, Decay: 0.9},
		{Kind: "linear", Initial: 0.1, Final: 0.001, Iterations: 700},
		{Kind: "cosine", Initial: 0.1, Min: 1e-4, Iterations: 900, Warmup: 30},
		{Kind: "step", Initial: 0.1, Gamma: 0.3, StepSize: 77},
	}
	const n = 3000
	for _, cfg := range cfgs {
		want := values(mustNew(t, cfg), n)
		for _, at := range []int{1, 2, 31, 51, 500, 2999} {
			s := mustNew(t, cfg)
			for s.T() < int64(at) {
				s.Step()
			}
			b, err := json.Marshal(s.State())
			if err != nil {
				t.Fatal(err)
			}
			var st State
			if err := json.Unmarshal(b, &st); err != nil {
				t.Fatal(err)
			}
			r := mustNew(t, cfg)
			if err := r.Restore(st); err != nil {
				t.Fatalf("%+v at %d: %v", cfg, at, err)
			}
			for i := at; i <= n; i++ {
				if r.T() != int64(i) || math.Float64bits(r.LR()) != math.Float64bits(want[i-1]) {
					t.Fatalf("%+v resumed at %d: t=%d lr=%.17g, want t=%d lr=%.17g", cfg, at, r.T(), r.LR(), i, want[i-1])
				}
				r.Step()
			}
		}
	}
}

func TestRestoreRefuses(t *testing.T) {
	s := mustNew(t, Config{Kind: "exp", Initial: 0.1, Decay: 0.99, Min: 0.01})
	for range 10 {
		s.Step()
	}
	st := s.State()
	other := mustNew(t, Config{Kind: "exp", Initial: 0.1, Decay: 0.98, Min: 0.01})
	err := other.Restore(st)
	if err == nil || !strings.Contains(err.Error(), "t=11") || !strings.Contains(err.Error(), "changed") {
		t.Fatalf("restore into another schedule: %v", err)
	}
	if other.T() != 1 || other.LR() != 0.1 {
		t.Fatalf("failed restore changed the schedule: t=%d lr=%v", other.T(), other.LR())
	}
	st.LR = math.Nextafter(st.LR, 1)
	if err := mustNew(t, s.Config()).Restore(st); err == nil {
		t.Fatal("restore with an lr off by one ulp succeeded")
	}
	for _, bad := range []int64{0, -5, 1 << 41} {
		if err := s.Restore(State{T: bad, LR: 0.1}); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Fatalf("restore at t=%d: %v", bad, err)
		}
	}
	// A settled schedule restores far ahead without replaying every step.
	f := mustNew(t, Config{Kind: "exp", Initial: 0.1, Decay: 0.5, Min: 0.01})
	if err := f.Restore(State{T: 1 << 39, LR: 0.01}); err != nil {
		t.Fatal(err)
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{Kind: "exp", Initial: 0.1, Decay: 1.5}, `schedule "exp": decay must be in (0, 1], got 1.5`},
		{Config{Kind: "exp", Initial: 0.1}, `schedule "exp": decay must be in (0, 1], got 0`},
		{Config{Kind: "exp", Initial: 0.1, Decay: 0.9, Min: 0.2}, `schedule "exp": min must be in [0, initial=0.1], got 0.2`},
		{Config{Kind: "warp", Initial: 0.1}, `schedule: unknown type "warp"`},
		{Config{Initial: 0}, `schedule "constant": initial must be > 0, got 0`},
		{Config{Initial: math.NaN()}, `initial must be > 0, got NaN`},
		{Config{Initial: math.Inf(1)}, `initial must be > 0, got +Inf`},
		{Config{Initial: 0.1, Decay: 0.9}, `schedule "constant": decay is not used by this type`},
		{Config{Kind: "linear", Initial: 0.1, Iterations: 10, Final: -1}, `final must be >= 0, got -1`},
		{Config{Kind: "linear", Initial: 0.1}, `schedule "linear": iterations must be >= 1, got 0`},
		{Config{Kind: "cosine", Initial: 0.1, Iterations: -3}, `iterations must be >= 1, got -3`},
		{Config{Kind: "step", Initial: 0.1, Gamma: 0.5}, `step_size must be >= 1, got 0`},
		{Config{Kind: "step", Initial: 0.1, StepSize: 5, Gamma: 2}, `gamma must be in (0, 1], got 2`},
		{Config{Initial: 0.1, Warmup: -1}, `warmup must be >= 0, got -1`},
		{Config{Initial: 0.1, Warmup: 5, WarmupStart: -0.1}, `warmup_start must be >= 0, got -0.1`},
		{Config{Initial: 0.1, WarmupStart: 0.01}, `warmup_start needs warmup > 0`},
	}
	for _, c := range cases {
		_, err := New(c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.cfg, err, c.want)
		}
	}
}

func TestSolveDecay(t *testing.T) {
	// 2 -> 1 in one update is decay 1/2 exactly; in two, 1/sqrt(2).
	if d, _ := SolveDecay(2, 1, 1); d != 0.5 {
		t.Fatalf("SolveDecay(2, 1, 1) = %v", d)
	}
	if d, _ := SolveDecay(2, 1, 2); math.Abs(d-math.Sqrt2/2) > 1e-16 {
		t.Fatalf("SolveDecay(2, 1, 2) = %v", d)
	}
	for _, c := range []struct {
		a, b float64
		n    int
	}{{0, 1, 1}, {1, 2, 1}, {1, 0, 1}, {1, 0.5, 0}, {math.NaN(), 1, 1}, {1, math.NaN(), 1}} {
		if _, err := SolveDecay(c.a, c.b, c.n); err == nil {
			t.Errorf("SolveDecay(%v, %v, %d) succeeded", c.a, c.b, c.n)
		}
	}
}

func ExampleSolveDecay() {
	d, _ := SolveDecay(0.05, 0.0005, 100000)
	s, _ := New(Config{Kind: "exp", Initial: 0.05, Decay: d, Min: 0.0005})
	for s.T() < 100001 {
		s.Step()
	}
	fmt.Printf("decay %.10f, lr_%d = %g\n", d, s.T(), s.LR())
	// Output: decay 0.9999539494, lr_100001 = 0.0005
}

func BenchmarkStep(b *testing.B) {
	for _, cfg := range []Config{
		{Initial: 0.1},
		{Kind: "exp", Initial: 0.1, Decay: 0.99995, Min: 5e-4},
		{Kind: "linear", Initial: 0.1, Final: 0.001, Iterations: 1 << 30},
		{Kind: "cosine", Initial: 0.1, Iterations: 1 << 30},
		{Kind: "step", Initial: 0.1, Gamma: 0.5, StepSize: 1000},
	} {
		name := cfg.Kind
		if name == "" {
			name = "constant"
		}
		b.Run(name, func(b *testing.B) {
			s := mustNew(b, cfg)
			for b.Loop() {
				s.Step()
			}
			if s.LR() < 0 {
				b.Fatal(s.LR())
			}
		})
	}
}
