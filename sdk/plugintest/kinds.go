package plugintest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/sdk"
)

// driver makes a kind's calls.
type driver interface {
	// shapes checks what the calls return against the declared shapes.
	shapes(ctx context.Context, st *stage) problems
	// sequence makes rounds from..from+n-1 of calls and returns the results.
	sequence(ctx context.Context, st *stage, from, n int) (trace, error)
	// malformed makes calls that must be refused. changed is true when a
	// call was legitimately accepted and may have changed the state.
	malformed(ctx context.Context, st *stage) (probs problems, changed bool)
}

func (e *env) driver() driver {
	switch e.s.Kind {
	case sdk.KindEnergy:
		return energyDriver{e}
	case sdk.KindSampler:
		return samplerDriver{e}
	case sdk.KindData:
		return dataDriver{e}
	}
	return diagDriver{e}
}

// refused checks that a call that must fail failed cleanly: an error, no
// crash, and the plugin still answering.
func refused(ctx context.Context, st *stage, what string, err error) error {
	if err == nil {
		return fmt.Errorf("%s: accepted, want an error", what)
	}
	if errors.Is(err, host.ErrCrashed) || errors.Is(err, host.ErrDeadline) || st.p.Exited() {
		return fmt.Errorf("%s: the plugin crashed instead of returning an error: %v", what, err)
	}
	if _, ierr := st.p.Client.Info(ctx); ierr != nil {
		return fmt.Errorf("%s: the plugin stopped answering after refusing it: %v", what, ierr)
	}
	return nil
}

// notCrashed checks that a call that may fail did not crash the plugin.
func notCrashed(ctx context.Context, st *stage, what string, err error) error {
	if err != nil && (errors.Is(err, host.ErrCrashed) || errors.Is(err, host.ErrDeadline) || st.p.Exited()) {
		return fmt.Errorf("%s: the plugin crashed: %v", what, err)
	}
	if _, ierr := st.p.Client.Info(ctx); ierr != nil {
		return fmt.Errorf("%s: the plugin stopped answering: %v", what, ierr)
	}
	return nil
}

// declared returns the conventional per-sample shape the stage declared.
func declared(st *stage) ([]int, error) {
	name := conventionalShape(st.e.s.Kind)
	sh, ok := st.shapes[name]
	if !ok {
		return nil, fmt.Errorf("configure declared no %q shape (declared %v)", name, st.shapes)
	}
	return sh, nil
}

// wrongShape returns a per-sample shape that differs from sh in its last
// dimension.
func wrongShape(sh []int) []int {
	w := slices.Clone(sh)
	if len(w) == 0 {
		return []int{2}
	}
	w[len(w)-1]++
	return w
}

func otherDType(d sdk.DType) sdk.DType {
	if d == sdk.Float32 {
		return sdk.Float64
	}
	return sdk.Float32
}

func withNaN(x *sdk.Tensor) *sdk.Tensor {
	y := x.Clone()
	y.Set(y.Len()/2, math.NaN())
	return y
}

type energyDriver struct{ e *env }

// gradIntoAgrees calls Grad with storage offered (sdk.GradInto, as
// sampler-langevin does: through a channel the answer is read into the
// storage, and an energy with GradInto writes into storage its server
// reuses), the storage holding garbage, and compares the answer with
// Grad's (f, g).
func gradIntoAgrees(ctx context.Context, st *stage, x, f, g *sdk.Tensor) error {
	sf, sg := sdk.NewTensor(x.DType, f.Shape...), sdk.NewTensor(x.DType, x.Shape...)
	for _, t := range []*sdk.Tensor{sf, sg} {
		for i := range t.Len() {
			t.Set(i, math.NaN())
		}
	}
	for round := range 2 { // the second reuses the callee's storage
		gf, gg, err := sdk.GradInto(ctx, st.p, x, sf, sg)
		if err != nil {
			return fmt.Errorf("Grad with storage offered (round %d): %w", round+1, err)
		}
		for _, c := range []struct {
			what      string
			got, want *sdk.Tensor
		}{{"F", gf, f}, {"dF/dx", gg, g}} {
			if err := expectShape("Grad with storage offered: "+c.what, c.got, c.want.Shape); err != nil {
				return err
			}
			for i := range c.want.Len() {
				if a, b := c.want.At(i), c.got.At(i); !(math.Abs(a-b) <= 1e-6*(1+math.Abs(a))) {
					return fmt.Errorf("Grad with storage offered (round %d) disagrees with Grad on %s element %d: %v against %v", round+1, c.what, i, b, a)
				}
			}
		}
	}
	return nil
}

func (d energyDriver) shapes(ctx context.Context, st *stage) (probs problems) {
	in, err := declared(st)
	if err != nil {
		probs.addErr(err)
		return
	}
	n := d.e.s.Batch
	for _, b := range []int{n, 1} {
		x := d.e.input("x", 0, batchShape(b, in)...)
		f, err := st.p.Energy(ctx, x)
		if err != nil {
			probs.add("Energy of %s: %v", sdk.FormatShape(x.Shape), err)
			continue
		}
		probs.addErr(expectShape("Energy: F", f, []int{b}))
		fg, g, err := st.p.Grad(ctx, x)
		if err != nil {
			probs.add("Grad of %s: %v", sdk.FormatShape(x.Shape), err)
			continue
		}
		probs.addErr(expectShape("Grad: F", fg, []int{b}))
		probs.addErr(expectShape("Grad: dF/dx", g, x.Shape))
		if len(probs) == 0 {
			for i := range b {
				if a, c := f.At(i), fg.At(i); math.Abs(a-c) > 1e-4*(1+math.Abs(a)) {
					probs.add("Energy and Grad disagree on F of sample %d: %v against %v", i, a, c)
					break
				}
			}
			probs.addErr(gradIntoAgrees(ctx, st, x, fg, g))
		}
	}
	u, err := st.p.Update(ctx, sdk.UpdateRequest{Pos: d.e.input("pos", 0, batchShape(n, in)...), Neg: d.e.input("neg", 0, batchShape(n, in)...), LR: d.e.s.LR, T: 1})
	if err != nil {
		probs.add("Update: %v", err)
	} else {
		probs.addErr(finite("Update: d_st, mean F+, mean F-, weight gradient norm", u.DST, u.MeanPos, u.MeanNeg, u.GradNorm))
	}
	return probs
}

func (d energyDriver) sequence(ctx context.Context, st *stage, from, n int) (trace, error) {
	in, err := declared(st)
	if err != nil {
		return nil, err
	}
	var tr trace
	b := d.e.s.Batch
	for i := from; i < from+n; i++ {
		x := d.e.input("x", i, batchShape(b, in)...)
		f, g, err := st.p.Grad(ctx, x)
		if err != nil {
			return nil, fmt.Errorf("Grad %d: %w", i, err)
		}
		tr.tensor(fmt.Sprintf("Grad %d F", i), f)
		tr.tensor(fmt.Sprintf("Grad %d dF/dx", i), g)
		u, err := st.p.Update(ctx, sdk.UpdateRequest{Pos: d.e.input("pos", i, batchShape(b, in)...), Neg: d.e.input("neg", i, batchShape(b, in)...), LR: d.e.s.LR, T: i + 1})
		if err != nil {
			return nil, fmt.Errorf("Update %d: %w", i, err)
		}
		tr.floats(fmt.Sprintf("Update %d (d_st, mean F+, mean F-, gradient norm)", i), u.DST, u.MeanPos, u.MeanNeg, u.GradNorm)
		f, err = st.p.Energy(ctx, x)
		if err != nil {
			return nil, fmt.Errorf("Energy %d: %w", i, err)
		}
		tr.tensor(fmt.Sprintf("Energy %d", i), f)
	}
	return tr, nil
}

func (d energyDriver) malformed(ctx context.Context, st *stage) (probs problems, changed bool) {
	in, err := declared(st)
	if err != nil {
		probs.addErr(err)
		return probs, false
	}
	b := d.e.s.Batch
	x := d.e.input("x", 0, batchShape(b, in)...)
	bad := map[string]*sdk.Tensor{
		"a batch of shape " + sdk.FormatShape(batchShape(b, wrongShape(in))): d.e.input("x", 0, batchShape(b, wrongShape(in))...),
		"a tensor without its batch dimension, shape " + sdk.FormatShape(in): d.e.input("x", 0, in...),
		"a batch with a NaN": withNaN(x),
	}
	for _, what := range slices.Sorted(maps.Keys(bad)) {
		_, err := st.p.Energy(ctx, bad[what])
		probs.addErr(refused(ctx, st, "Energy of "+what, err))
		_, _, err = st.p.Grad(ctx, bad[what])
		probs.addErr(refused(ctx, st, "Grad of "+what, err))
	}
	pos, neg := d.e.input("pos", 0, batchShape(b, in)...), d.e.input("neg", 0, batchShape(b, in)...)
	_, err = st.p.Update(ctx, sdk.UpdateRequest{Pos: withNaN(pos), Neg: neg, LR: d.e.s.LR, T: 1})
	probs.addErr(refused(ctx, st, "Update with a NaN among the positives", err))
	_, err = st.p.Update(ctx, sdk.UpdateRequest{Pos: pos, Neg: d.e.input("neg", 0, batchShape(b, wrongShape(in))...), LR: d.e.s.LR, T: 1})
	probs.addErr(refused(ctx, st, "Update with negatives of the wrong shape", err))
	// Another dtype may be accepted, but then the answer must be well formed.
	y := d.e.input("x", 0, batchShape(b, in)...)
	y64 := sdk.NewTensor(otherDType(y.DType), y.Shape...)
	for i := range y.Len() {
		y64.Set(i, y.At(i))
	}
	f, g, err := st.p.Grad(ctx, y64)
	if err == nil {
		probs.addErr(expectShape("Grad of a "+y64.DType.String()+" batch (accepted)", f, []int{b}))
		probs.addErr(expectShape("Grad of a "+y64.DType.String()+" batch (accepted): dF/dx", g, y64.Shape))
	} else {
		probs.addErr(notCrashed(ctx, st, "Grad of a "+y64.DType.String()+" batch", err))
	}
	return probs, false
}

type samplerDriver struct{ e *env }

func (d samplerDriver) shapes(ctx context.Context, st *stage) (probs problems) {
	sh, err := declared(st)
	if err != nil {
		probs.addErr(err)
		return
	}
	n := d.e.s.Batch
	check := func(what string, res *sdk.SampleResult, want []int) {
		probs.addErr(expectShape(what+": X", res.X, want))
		if err := finite(what+": r_t", res.R); err != nil || res.R < 0 {
			probs.add("%s: r_t = %v, want a finite non-negative drift magnitude", what, res.R)
		}
		if a := res.AcceptRate; a != -1 && !(a >= 0 && a <= 1) {
			probs.add("%s: acceptance rate %v, want -1 (no Metropolis step) or within [0, 1]", what, a)
		}
	}
	res, err := st.p.Sample(ctx, sdk.SampleRequest{N: n, T: 1})
	if err != nil {
		probs.add("Sample of %d chains: %v", n, err)
	} else {
		check(fmt.Sprintf("Sample of %d chains", n), res, batchShape(n, sh))
	}
	res, err = st.p.Sample(ctx, sdk.SampleRequest{})
	if err != nil {
		probs.add("Sample as configured: %v", err)
	} else if res.X != nil && res.X.Batch() > 0 {
		check("Sample as configured", res, batchShape(res.X.Batch(), sh))
	} else {
		probs.add("Sample as configured: no samples")
	}
	start := d.e.input("start", 0, batchShape(n, sh)...)
	res, err = st.p.Sample(ctx, sdk.SampleRequest{Start: start, Steps: 2, LeaveBank: true})
	if err != nil {
		probs.add("Sample from a given start %s: %v", sdk.FormatShape(start.Shape), err)
	} else {
		check("Sample from a given start", res, start.Shape)
	}
	return probs
}

func (d samplerDriver) sequence(ctx context.Context, st *stage, from, n int) (trace, error) {
	var tr trace
	for i := from; i < from+n; i++ {
		res, err := st.p.Sample(ctx, sdk.SampleRequest{N: d.e.s.Batch, T: i + 1})
		if err != nil {
			return nil, fmt.Errorf("Sample %d: %w", i, err)
		}
		tr.tensor(fmt.Sprintf("Sample %d X", i), res.X)
		tr.floats(fmt.Sprintf("Sample %d (r_t, acceptance)", i), res.R, res.AcceptRate)
	}
	return tr, nil
}

func (d samplerDriver) malformed(ctx context.Context, st *stage) (probs problems, changed bool) {
	sh, err := declared(st)
	if err != nil {
		probs.addErr(err)
		return probs, false
	}
	n := d.e.s.Batch
	start := d.e.input("start", 0, batchShape(n, sh)...)
	_, err = st.p.Sample(ctx, sdk.SampleRequest{Start: d.e.input("start", 0, batchShape(n, wrongShape(sh))...), Steps: 1, LeaveBank: true})
	probs.addErr(refused(ctx, st, "Sample from a start of shape "+sdk.FormatShape(batchShape(n, wrongShape(sh))), err))
	_, err = st.p.Sample(ctx, sdk.SampleRequest{Start: withNaN(start), Steps: 1, LeaveBank: true})
	probs.addErr(refused(ctx, st, "Sample from a start with a NaN", err))
	_, err = st.p.Sample(ctx, sdk.SampleRequest{N: -1})
	probs.addErr(refused(ctx, st, "Sample of -1 chains", err))
	_, err = st.p.Sample(ctx, sdk.SampleRequest{N: n, Init: "plugintest-no-such-init"})
	probs.addErr(refused(ctx, st, "Sample with init \"plugintest-no-such-init\"", err))
	return probs, false
}

type dataDriver struct{ e *env }

func (d dataDriver) shapes(ctx context.Context, st *stage) (probs problems) {
	sh, err := declared(st)
	if err != nil {
		probs.addErr(err)
		return
	}
	info, err := st.p.Describe(ctx)
	if err != nil {
		probs.add("Describe: %v", err)
		return
	}
	if !slices.Equal(info.Shape, sh) {
		probs.add("Describe gives shape %s, configure declared %s", sdk.FormatShape(info.Shape), sdk.FormatShape(sh))
	}
	if info.Size < 0 {
		probs.add("Describe gives size %d", info.Size)
	}
	if len(info.Box) != 0 && (len(info.Box) != sdk.NumElements(info.Shape) || slices.ContainsFunc(info.Box, func(b [2]float64) bool { return !(b[0] < b[1]) })) {
		probs.add("Describe gives box %v for sample shape %v, want none or one [lo, hi] with lo < hi per element of a sample", info.Box, info.Shape)
	}
	n := d.e.s.Batch
	exact, err := st.p.Next(ctx, exactRequest(n))
	if err != nil {
		probs.add("Next of %d exact samples (NoiseSet, Noise 0, as diagnostics ask): %v", n, err)
	} else {
		probs.addErr(expectShape(fmt.Sprintf("Next of %d exact samples (NoiseSet, Noise 0)", n), exact, batchShape(n, sh)))
	}
	probs = append(probs, heldOut(ctx, st, n, sh)...)
	for _, stream := range []string{"positives", "plugintest"} {
		x, err := st.p.Next(ctx, sdk.NextRequest{N: n, Stream: stream})
		if err != nil {
			probs.add("Next of %d from stream %q: %v", n, stream, err)
			continue
		}
		probs.addErr(expectShape(fmt.Sprintf("Next of %d from stream %q", n, stream), x, batchShape(n, sh)))
		if stream != "positives" {
			continue
		}
		lp, err := st.p.LogDensity(ctx, x)
		switch {
		case info.HasDensity && err != nil:
			probs.add("LogDensity (Describe says the density is known): %v", err)
		case info.HasDensity:
			if lp.Validate() != nil || !slices.Equal(lp.Shape, []int{n}) {
				probs.add("LogDensity: shape %v, want [%d]", lp.Shape, n)
			}
			for i := range lp.Len() {
				if v := lp.At(i); math.IsNaN(v) || math.IsInf(v, 1) {
					probs.add("LogDensity: value %d is %v", i, v)
				}
			}
		case err == nil:
			probs.add("LogDensity answered, but Describe says the density is unknown")
		case !errors.Is(err, sdk.ErrUnsupported):
			probs.add("LogDensity without a known density: %v; want an error wrapping sdk.ErrUnsupported", err)
		}
	}
	return probs
}

func (d dataDriver) sequence(ctx context.Context, st *stage, from, n int) (trace, error) {
	var tr trace
	info, err := st.p.Describe(ctx)
	if err != nil {
		return nil, fmt.Errorf("Describe: %w", err)
	}
	for i := from; i < from+n; i++ {
		x, err := st.p.Next(ctx, sdk.NextRequest{N: d.e.s.Batch, Stream: "positives"})
		if err != nil {
			return nil, fmt.Errorf("Next %d: %w", i, err)
		}
		tr.tensor(fmt.Sprintf("Next %d (stream positives)", i), x)
		y, err := st.p.Next(ctx, sdk.NextRequest{N: d.e.s.Batch, Stream: "plugintest"})
		if err != nil {
			return nil, fmt.Errorf("Next %d: %w", i, err)
		}
		tr.tensor(fmt.Sprintf("Next %d (stream plugintest)", i), y)
		z, err := st.p.Next(ctx, exactRequest(d.e.s.Batch))
		if err != nil {
			return nil, fmt.Errorf("Next %d of exact samples: %w", i, err)
		}
		tr.tensor(fmt.Sprintf("Next %d (stream plugintest-exact, NoiseSet, Noise 0)", i), z)
		if info.HasDensity {
			lp, err := st.p.LogDensity(ctx, x)
			if err != nil {
				return nil, fmt.Errorf("LogDensity %d: %w", i, err)
			}
			tr.tensor(fmt.Sprintf("LogDensity %d", i), lp)
		}
	}
	return tr, nil
}

func (d dataDriver) malformed(ctx context.Context, st *stage) (probs problems, changed bool) {
	sh, err := declared(st)
	if err != nil {
		probs.addErr(err)
		return probs, false
	}
	_, err = st.p.Next(ctx, sdk.NextRequest{N: -1, Stream: "positives"})
	probs.addErr(refused(ctx, st, "Next of -1 samples", err))
	info, err := st.p.Describe(ctx)
	if err != nil || !info.HasDensity {
		return probs, false
	}
	n := d.e.s.Batch
	_, err = st.p.LogDensity(ctx, d.e.input("x", 0, batchShape(n, wrongShape(sh))...))
	probs.addErr(refused(ctx, st, "LogDensity of shape "+sdk.FormatShape(batchShape(n, wrongShape(sh))), err))
	// LogDensity is an evaluation, not a training step: it may refuse a NaN,
	// or answer NaN for exactly the sample that holds it.
	x := withNaN(d.e.input("x", 0, batchShape(n, sh)...))
	lp, err := st.p.LogDensity(ctx, x)
	if err != nil {
		probs.addErr(notCrashed(ctx, st, "LogDensity of a batch with a NaN", err))
	} else if lp.Validate() != nil || !slices.Equal(lp.Shape, []int{n}) {
		probs.add("LogDensity of a batch with a NaN (accepted): shape %v, want [%d]", lp.Shape, n)
	} else {
		per := x.Len() / n
		for i := range n {
			hasNaN := slices.ContainsFunc(x.F32[i*per:(i+1)*per], func(v float32) bool { return v != v }) ||
				slices.ContainsFunc(x.F64[min(i*per, len(x.F64)):min((i+1)*per, len(x.F64))], math.IsNaN)
			if got := lp.At(i); hasNaN != math.IsNaN(got) {
				probs.add("LogDensity of a batch with a NaN (accepted): sample %d (NaN in it: %v) has log-density %v; answer NaN for exactly the samples that hold one, or refuse the batch", i, hasNaN, got)
			}
		}
	}
	return probs, false
}

type diagDriver struct{ e *env }

func (d diagDriver) records(i int) []sdk.Record {
	m := d.e.s.RecordsPerCall
	recs := make([]sdk.Record, m)
	for j := range recs {
		recs[j] = d.e.s.Records(i*m + j + 1)
	}
	return recs
}

func (d diagDriver) shapes(ctx context.Context, st *stage) (probs problems) {
	for i := range d.e.s.Calls {
		obs, err := st.p.Observe(ctx, d.records(i))
		if err != nil {
			probs.add("Observe %d: %v", i, err)
			return
		}
		for _, ev := range obs.Events {
			if !slices.Contains([]string{"info", "warn", "error"}, ev.Level) {
				probs.add("Observe %d: event %q has level %q, want info, warn or error", i, ev.Message, ev.Level)
			}
		}
	}
	for _, final := range []bool{false, true} {
		rep, err := st.p.Report(ctx, final)
		if err != nil {
			probs.add("Report(final=%v): %v", final, err)
			continue
		}
		if len(rep.Summary) > 0 && !json.Valid(rep.Summary) {
			probs.add("Report(final=%v): the summary is not JSON: %q", final, head(rep.Summary))
		}
		for _, f := range rep.Files {
			if filepath.IsAbs(f) || !filepath.IsLocal(f) {
				probs.add("Report(final=%v): file %q is not relative to the run folder", final, f)
			} else if _, err := os.Stat(filepath.Join(st.runDir, f)); err != nil {
				probs.add("Report(final=%v): lists %q, but: %v", final, f, err)
			}
		}
	}
	return probs
}

func (d diagDriver) sequence(ctx context.Context, st *stage, from, n int) (trace, error) {
	var tr trace
	for i := from; i < from+n; i++ {
		obs, err := st.p.Observe(ctx, d.records(i))
		if err != nil {
			return nil, fmt.Errorf("Observe %d: %w", i, err)
		}
		keys := slices.Sorted(maps.Keys(obs.Metrics))
		for _, k := range keys {
			tr.floats(fmt.Sprintf("Observe %d metric %s", i, k), obs.Metrics[k])
		}
		for j, ev := range obs.Events {
			tr.bytes(fmt.Sprintf("Observe %d event %d", i, j), fmt.Appendf(nil, "%d %s %s", ev.T, ev.Level, ev.Message))
		}
	}
	rep, err := st.p.Report(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("Report: %w", err)
	}
	tr.bytes("Report summary", rep.Summary)
	return tr, nil
}

func (d diagDriver) malformed(ctx context.Context, st *stage) (probs problems, changed bool) {
	rec := d.e.s.Records(1)
	rec.DST = math.NaN()
	_, err := st.p.Observe(ctx, []sdk.Record{rec})
	probs.addErr(notCrashed(ctx, st, "Observe of a record whose d_st is NaN", err))
	_, err = st.p.Observe(ctx, nil)
	probs.addErr(notCrashed(ctx, st, "Observe of no records", err))
	return probs, true
}

// exactRequest asks for n samples without data noise, on a stream of the
// harness's own, as a diagnostics stage asks for exact samples.
func exactRequest(n int) sdk.NextRequest {
	return sdk.NextRequest{N: n, Stream: "plugintest-exact", Noise: 0, NoiseSet: true}
}

// heldOut checks a data stage's answer to held-out requests (Split test):
// an error wrapping sdk.ErrUnsupported, or n samples of the declared shape,
// the same for the same request (they are a fixed set).
func heldOut(ctx context.Context, st *stage, n int, sh []int) (probs problems) {
	req := sdk.NextRequest{N: n, Stream: "plugintest-heldout", Split: sdk.SplitTest, NoiseSet: true}
	a, err := st.p.Next(ctx, req)
	switch {
	case errors.Is(err, sdk.ErrUnsupported):
		return nil
	case err != nil:
		probs.add("Next of %d held-out samples (Split test): %v; want them, or an error wrapping sdk.ErrUnsupported", n, err)
		return probs
	}
	if err := expectShape(fmt.Sprintf("Next of %d held-out samples (Split test)", n), a, batchShape(n, sh)); err != nil {
		probs.addErr(err)
		return probs
	}
	b, err := st.p.Next(ctx, req)
	if err != nil || !slices.Equal(b.F32, a.F32) || !slices.Equal(b.F64, a.F64) {
		probs.add("Next of %d held-out samples (Split test) twice: different answers (%v); the same request must give the same samples", n, err)
	}
	return probs
}
