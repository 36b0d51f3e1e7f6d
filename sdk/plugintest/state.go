package plugintest

import (
	"context"
	"fmt"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// checkShapes checks what the calls return against the declared shapes.
func (e *env) checkShapes(t testing.TB) error {
	ctx := context.Background()
	st, err := e.startGood(ctx, t)
	if err != nil {
		return err
	}
	probs := e.driver().shapes(ctx, st)
	probs.addErr(st.close())
	return probs.err()
}

// run starts a fresh stage, makes calls 0..n-1 and saves the state.
func (e *env) run(ctx context.Context, t testing.TB, n int) (trace, error) {
	st, err := e.startGood(ctx, t)
	if err != nil {
		return nil, err
	}
	var probs problems
	tr, err := e.driver().sequence(ctx, st, 0, n)
	if err == nil {
		var s *sdk.State
		if s, err = st.p.SaveState(ctx); err == nil {
			tr.state("state after the calls", s)
		}
	}
	probs.addErr(err)
	probs.addErr(st.close())
	return tr, probs.err()
}

// checkDeterminism runs the same calls with the same seed in two fresh
// processes and compares the results bit for bit.
func (e *env) checkDeterminism(t testing.TB) error {
	ctx := context.Background()
	a, err := e.run(ctx, t, e.s.Calls)
	if err != nil {
		return err
	}
	b, err := e.run(ctx, t, e.s.Calls)
	if err != nil {
		return err
	}
	if d := diff(a, b); d != "" {
		return fmt.Errorf("two fresh processes with seed %d differ: %s; draw every random number from sdk.NewStream(cfg.Seed, name)", e.s.Seed, d)
	}
	if e.s.Kind == sdk.KindData {
		return e.checkStreams(ctx, t, a)
	}
	return nil
}

// checkStreams checks that the "positives" stream of a data stage does not
// depend on draws from other streams.
func (e *env) checkStreams(ctx context.Context, t testing.TB, mixed trace) error {
	st, err := e.startGood(ctx, t)
	if err != nil {
		return err
	}
	var probs problems
	for i := range e.s.Calls {
		x, err := st.p.Next(ctx, sdk.NextRequest{N: e.s.Batch, Stream: "positives"})
		if err != nil {
			probs.addErr(err)
			break
		}
		want := fmt.Sprintf("Next %d (stream positives)", i)
		for _, it := range mixed {
			if it.label == want {
				if d := diffItem(it, item{label: want, t: x}); d != "" {
					probs.add("stream \"positives\" changes when another stream draws in between: %s: %s; give each named stream its own sdk.Stream", want, d)
				}
			}
		}
		if len(probs) > 0 {
			break
		}
	}
	probs.addErr(st.close())
	return probs.err()
}

// checkState saves the state after some calls, loads it into a fresh
// process and checks that both continue identically; then checks that a
// corrupt state is refused without a crash.
func (e *env) checkState(t testing.TB) error {
	ctx := context.Background()
	n := e.s.Calls
	var probs problems
	a, err := e.startGood(ctx, t)
	if err != nil {
		return err
	}
	defer func() { probs.addErr(a.close()) }()
	drv := e.driver()
	if _, err := drv.sequence(ctx, a, 0, n); err != nil {
		return err
	}
	saved, err := a.p.SaveState(ctx)
	if err != nil {
		return fmt.Errorf("SaveState: %w", err)
	}
	// The linked stages are saved too, as a checkpoint saves every stage:
	// a sampler the stage draws through keeps that stream's state.
	savedLinks := make([]*sdk.State, len(a.linked))
	for i, lp := range a.linked {
		if savedLinks[i], err = lp.SaveState(ctx); err != nil {
			return fmt.Errorf("SaveState of linked stage %q: %w", lp.Stage, err)
		}
	}
	ta, err := drv.sequence(ctx, a, n, n)
	if err != nil {
		return err
	}
	if s, err := a.p.SaveState(ctx); err != nil {
		return fmt.Errorf("SaveState: %w", err)
	} else {
		ta.state("final state", s)
	}

	b, err := e.startGood(ctx, t)
	if err != nil {
		return err
	}
	defer func() { probs.addErr(b.close()) }()
	for i, lp := range b.linked {
		if err := lp.LoadState(ctx, savedLinks[i]); err != nil {
			return fmt.Errorf("LoadState of linked stage %q: %w", lp.Stage, err)
		}
	}
	if err := b.p.LoadState(ctx, saved); err != nil {
		return fmt.Errorf("LoadState of the state SaveState returned: %w", err)
	}
	tb, err := drv.sequence(ctx, b, n, n)
	if err != nil {
		return fmt.Errorf("after LoadState: %w", err)
	}
	if s, err := b.p.SaveState(ctx); err != nil {
		return fmt.Errorf("SaveState after LoadState: %w", err)
	} else {
		tb.state("final state", s)
	}
	if d := diff(ta, tb); d != "" {
		probs.add("a fresh process given the saved state does not continue as the original did: %s; SaveState must hold everything (weights, optimiser moments, chains, random stream states)", d)
	}

	c, err := e.startGood(ctx, t)
	if err != nil {
		return err
	}
	defer func() { probs.addErr(c.close()) }()
	corrupt := &sdk.State{Meta: []byte("plugintest: not a state"), Tensors: map[string]*sdk.Tensor{"plugintest_bogus": sdk.NewTensor(sdk.Float32, 3)}}
	err = c.p.LoadState(ctx, corrupt)
	hasState := len(saved.Meta) > 0 || len(saved.Tensors) > 0
	if hasState {
		probs.addErr(refused(ctx, c, "LoadState of a corrupt state", err))
	} else {
		probs.addErr(notCrashed(ctx, c, "LoadState of a corrupt state", err))
	}
	return probs.err()
}

// checkMalformed makes calls that must be refused, then checks that they
// left the stage as it was: the calls that follow give what a fresh
// process gives.
func (e *env) checkMalformed(t testing.TB) error {
	ctx := context.Background()
	st, err := e.startGood(ctx, t)
	if err != nil {
		return err
	}
	drv := e.driver()
	probs, changed := drv.malformed(ctx, st)
	var after trace
	if len(probs) == 0 && !changed {
		after, err = drv.sequence(ctx, st, 0, e.s.Calls)
		probs.addErr(err)
	}
	probs.addErr(st.close())
	if len(probs) > 0 || changed {
		return probs.err()
	}
	fresh, err := e.startGood(ctx, t)
	if err != nil {
		return err
	}
	want, err := drv.sequence(ctx, fresh, 0, e.s.Calls)
	probs.addErr(err)
	probs.addErr(fresh.close())
	if err == nil {
		if d := diff(want, after); d != "" {
			probs.add("the refused calls changed the stage: the calls after them differ from a fresh process's: %s; check inputs before drawing random numbers or touching state", d)
		}
	}
	return probs.err()
}
