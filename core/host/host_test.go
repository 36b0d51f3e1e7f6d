package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/rs/zerolog"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newTestHost(t *testing.T, opts Options) (*Host, *syncBuffer) {
	t.Helper()
	buf := &syncBuffer{}
	opts.Logger = zerolog.New(buf).Level(zerolog.DebugLevel)
	h := New(opts)
	t.Cleanup(h.Close)
	return h, buf
}

func raw(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func start(t *testing.T, h *Host, stage, kind string, values map[string]json.RawMessage, links ...rpc.Link) *Process {
	t.Helper()
	ctx := context.Background()
	p, err := h.Start(ctx, stage, kitBinary(t, kind))
	if err != nil {
		t.Fatal(err)
	}
	up := map[string]sdk.Shapes{}
	for _, l := range links {
		up[l.Attribute] = sdk.Shapes{"input": {2}}
	}
	_, diags, err := p.Configure(ctx, rpc.ConfigureArgs{Stage: stage, Seed: 42, Values: values, Links: links, Upstream: up})
	if err != nil {
		t.Fatal(err)
	}
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	return p
}

func TestStartCallsAndState(t *testing.T) {
	h, _ := newTestHost(t, Options{})
	ctx := context.Background()
	p := start(t, h, "e", "testenergy", map[string]json.RawMessage{"a": raw(2.0), "mu": raw(0.5)})
	if p.Info.Kind != sdk.KindEnergy || p.Info.Protocol != sdk.ProtocolVersion || p.Info.Name != "testenergy" {
		t.Fatalf("info = %+v", p.Info)
	}
	schema, err := p.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := schema.Lookup("a"); !ok || a.Default != 1.0 {
		t.Fatalf("schema attribute a = %+v", a)
	}
	x := sdk.FromFloat32([]float32{1, 0.5, -1, 2}, 2, 2)
	f, g, err := p.Grad(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	// F = a/2 |x - mu|^2 with a = 2, mu = 0.5: sample 0: 0.25 + 0 = 0.25; sample 1: 2.25 + 2.25 = 4.5.
	wantF := []float32{0.25, 4.5}
	wantG := []float32{1, 0, -3, 3}
	for i, w := range wantF {
		if f.F32[i] != w {
			t.Errorf("F[%d] = %v, want %v", i, f.F32[i], w)
		}
	}
	for i, w := range wantG {
		if g.F32[i] != w {
			t.Errorf("dF/dx[%d] = %v, want %v", i, g.F32[i], w)
		}
	}
	res, err := p.Update(ctx, sdk.UpdateRequest{Pos: x, Neg: sdk.FromFloat32([]float32{0.5, 0.5, 0.5, 0.5}, 2, 2), LR: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	// mean F+ = 2.375, mean F- = 0, eps = 0.1: d_st = 200 * 2.375.
	if math.Abs(res.DST-475) > 1e-9 || res.MeanPos != 2.375 || res.MeanNeg != 0 {
		t.Fatalf("update = %+v", res)
	}
	st, err := p.SaveState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Tensors["mu"].At(0) == 0.5 {
		t.Fatal("update did not move mu")
	}
	q := start(t, h, "e2", "testenergy", map[string]json.RawMessage{"a": raw(2.0)})
	if err := q.LoadState(ctx, st); err != nil {
		t.Fatal(err)
	}
	f1, _ := p.Energy(ctx, x)
	f2, _ := q.Energy(ctx, x)
	if f1.F32[0] != f2.F32[0] || f1.F32[1] != f2.F32[1] {
		t.Fatalf("loaded state gives %v, saved gives %v", f2.F32, f1.F32)
	}
}

func TestConfigureDiagnostics(t *testing.T) {
	h, _ := newTestHost(t, Options{})
	ctx := context.Background()
	p, err := h.Start(ctx, "e", kitBinary(t, "testenergy"))
	if err != nil {
		t.Fatal(err)
	}
	_, diags, err := p.Configure(ctx, rpc.ConfigureArgs{Stage: "e", Values: map[string]json.RawMessage{"a": raw(-1.0), "bogus": raw(1)}})
	if err != nil {
		t.Fatal(err)
	}
	if !diags.HasErrors() || len(diags) != 1 || diags[0].Path[0] != "bogus" {
		t.Fatalf("unknown attribute: diags = %+v", diags)
	}
	_, diags, err = p.Configure(ctx, rpc.ConfigureArgs{Stage: "e", Values: map[string]json.RawMessage{"a": raw(-1.0)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(diags) != 1 || diags[0].Path[0] != "a" || diags[0].Severity != sdk.SeverityError {
		t.Fatalf("bad curvature: diags = %+v", diags)
	}
}

func TestBrokeredEnergyLink(t *testing.T) {
	h, _ := newTestHost(t, Options{})
	ctx := context.Background()
	e := start(t, h, "energy", "testenergy", nil)
	s := start(t, h, "sampler", "testsampler", map[string]json.RawMessage{"steps": raw(5), "batch": raw(3)},
		rpc.Link{Attribute: "energy", Target: e.Client, Kind: sdk.KindEnergy})
	res, err := s.Sample(ctx, sdk.SampleRequest{Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.X.Expect(sdk.Float32, 3, 2); err != nil {
		t.Fatal(err)
	}
	if len(res.Trace) != 5 || res.R <= 0 {
		t.Fatalf("trace %d steps, r = %v", len(res.Trace), res.R)
	}
	// The energy process answered every step: its call counter says so.
	st, err := e.SaveState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var meta struct{ Calls []byte }
	json.Unmarshal(st.Meta, &meta)
	var calls struct{ Calls map[string]int }
	json.Unmarshal(meta.Calls, &calls)
	if calls.Calls["grad"] != 5 {
		t.Fatalf("energy saw %d grad calls, want 5", calls.Calls["grad"])
	}
	// Same seed, new processes: bit-identical samples.
	e2 := start(t, h, "energy", "testenergy", nil)
	s2 := start(t, h, "sampler", "testsampler", map[string]json.RawMessage{"steps": raw(5), "batch": raw(3)},
		rpc.Link{Attribute: "energy", Target: e2.Client, Kind: sdk.KindEnergy})
	res2, err := s2.Sample(ctx, sdk.SampleRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range res.X.F32 {
		if res.X.F32[i] != res2.X.F32[i] {
			t.Fatalf("sample %d differs between identical runs: %v vs %v", i, res.X.F32[i], res2.X.F32[i])
		}
	}
}

func TestCrashReported(t *testing.T) {
	for _, mode := range []string{"panic", "exit", "kill"} {
		t.Run(mode, func(t *testing.T) {
			h, _ := newTestHost(t, Options{})
			p := start(t, h, "critic", "testenergy", map[string]json.RawMessage{
				"fail": raw(mode), "fail_method": raw("grad"), "fail_after": raw(1)})
			x := sdk.FromFloat32([]float32{1, 2}, 1, 2)
			if _, _, err := p.Grad(context.Background(), x); err != nil {
				t.Fatalf("first call: %v", err)
			}
			_, _, err := p.Grad(context.Background(), x)
			if !errors.Is(err, ErrCrashed) {
				t.Fatalf("err = %v, want ErrCrashed", err)
			}
			msg := err.Error()
			wants := []string{`"testenergy"`, `stage "critic"`, "grad"}
			if mode == "panic" {
				wants = append(wants, "panic: test plugin panics in grad")
			} else {
				wants = append(wants, "test plugin: failing in grad with "+mode)
			}
			for _, want := range wants {
				if !strings.Contains(msg, want) {
					t.Errorf("error lacks %q:\n%s", want, msg)
				}
			}
		})
	}
}

func TestCrashThroughLink(t *testing.T) {
	h, _ := newTestHost(t, Options{})
	e := start(t, h, "energy", "testenergy", map[string]json.RawMessage{"fail": raw("exit"), "fail_method": raw("grad"), "fail_after": raw(2)})
	s := start(t, h, "sampler", "testsampler", nil, rpc.Link{Attribute: "energy", Target: e.Client, Kind: sdk.KindEnergy})
	_, err := s.Sample(context.Background(), sdk.SampleRequest{Steps: 5})
	if err == nil {
		t.Fatal("sampling with a dying energy succeeded")
	}
	// One line naming the plugin that died, its stage and the caller.
	for _, want := range []string{`plugin "testenergy" (stage "energy") died during grad, called by stage "sampler"`, "exit status 7"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestDeadlineKillsPlugin(t *testing.T) {
	h, _ := newTestHost(t, Options{CallTimeout: 700 * time.Millisecond})
	p := start(t, h, "slow", "testenergy", map[string]json.RawMessage{"fail": raw("hang"), "fail_method": raw("energy")})
	t0 := time.Now()
	_, err := p.Energy(context.Background(), sdk.FromFloat32([]float32{1, 2}, 1, 2))
	if !errors.Is(err, ErrDeadline) {
		t.Fatalf("err = %v, want ErrDeadline", err)
	}
	if !strings.Contains(err.Error(), `stage "slow"`) || !strings.Contains(err.Error(), "energy did not answer within 700ms") {
		t.Errorf("error does not name stage and call: %v", err)
	}
	if !p.exited(5 * time.Second) {
		t.Fatal("plugin still running after its call passed the deadline")
	}
	if d := time.Since(t0); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestLogRelay(t *testing.T) {
	h, buf := newTestHost(t, Options{})
	start(t, h, "chatty", "testenergy", map[string]json.RawMessage{"log_lines": raw(2)})
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(buf.String(), "test plugin warning") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	var found, infos int
	for _, line := range strings.Split(buf.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil {
			continue
		}
		if m["plugin"] != "testenergy" || m["stage"] != "chatty" {
			continue
		}
		switch m["message"] {
		case "test plugin warning":
			found++
			if m["level"] != "warn" {
				t.Errorf("warning relayed at level %v", m["level"])
			}
		case "test plugin configured":
			infos++
			if m["level"] != "info" || m["line"] == nil {
				t.Errorf("info line relayed as %v", m)
			}
		}
	}
	if found != 1 || infos != 2 {
		t.Fatalf("relayed %d warnings and %d infos, want 1 and 2; log:\n%s", found, infos, buf.String())
	}
}

// TestStdoutWarnedOnce: a plugin printing to its stdout during calls gets
// one warning naming it, with the first line; the rest go to debug level.
func TestStdoutWarnedOnce(t *testing.T) {
	h, buf := newTestHost(t, Options{})
	start(t, h, "printer", "testenergy", map[string]json.RawMessage{"stdout_lines": raw(3)})
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(buf.String(), "debug print 2") {
		time.Sleep(20 * time.Millisecond)
	}
	var warns, debugs int
	for _, line := range strings.Split(buf.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil || m["stage"] != "printer" || m["stdout"] == nil {
			continue
		}
		switch m["level"] {
		case "warn":
			warns++
			if m["plugin"] != "testenergy" || m["stdout"] != "debug print 0" || !strings.Contains(m["message"].(string), "reserved for the protocol") {
				t.Errorf("warning %v", m)
			}
		case "debug":
			debugs++
		default:
			t.Errorf("stdout line at level %v", m["level"])
		}
	}
	if warns != 1 || debugs != 2 {
		t.Fatalf("%d warnings and %d debug lines, want 1 and 2; log:\n%s", warns, debugs, buf.String())
	}
}
