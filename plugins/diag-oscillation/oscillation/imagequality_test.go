package oscillation

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// digitData is an in-process image data stage: its "held-out examples" are
// [n, 1, 4, 4] images with pixels in [-1, 1] that depend only on the
// stream and n, as sdk.NextRequest.Split documents. It records requests.
type digitData struct{ reqs []sdk.NextRequest }

func (d *digitData) Describe(context.Context) (sdk.DataInfo, error) {
	return sdk.DataInfo{Shape: []int{1, 4, 4}, Size: 100}, nil
}

func (d *digitData) Next(_ context.Context, req sdk.NextRequest) (*sdk.Tensor, error) {
	d.reqs = append(d.reqs, req)
	if req.Split != sdk.SplitTest {
		return nil, errors.New("digitData serves held-out examples only")
	}
	return images(sdk.NewStream(5, "heldout/"+req.Stream), req.N, 0), nil
}

func (d *digitData) LogDensity(context.Context, *sdk.Tensor) (*sdk.Tensor, error) {
	return nil, sdk.ErrUnsupported
}

// images are n 4x4 images: background -1, a random half of the pixels
// uniform in [-1, 1], plus shift (pushing them past the range).
func images(s *sdk.Stream, n int, shift float64) *sdk.Tensor {
	x := sdk.NewTensor(sdk.Float32, n, 1, 4, 4)
	for i := range x.F32 {
		v := -1.0
		if s.Float64() < 0.5 {
			v = 2*s.Float64() - 1
		}
		x.F32[i] = float32(v + shift)
	}
	return x
}

// imageSampler returns images shifted by shift; it records requests.
type imageSampler struct {
	s     *sdk.Stream
	shift float64
	reqs  []sdk.SampleRequest
}

func (g *imageSampler) Sample(_ context.Context, req sdk.SampleRequest) (*sdk.SampleResult, error) {
	g.reqs = append(g.reqs, req)
	return &sdk.SampleResult{X: images(g.s, req.N, g.shift), AcceptRate: -1}, nil
}

func qualityPlugin(t *testing.T, dir string, d sdk.DataLink, s sdk.SamplerLink, vals map[string]any) (*Plugin, sdk.Problems) {
	t.Helper()
	cfg := newConfig(t, dir, vals)
	cfg.Upstream = map[string]sdk.Shapes{"data": {"sample": {1, 4, 4}}, "sampler": {"bank": {50, 1, 4, 4}}}
	cfg.SetLink("data", d)
	cfg.SetLink("sampler", s)
	p := New()
	_, diags := p.Configure(context.Background(), cfg)
	return p, diags
}

// TestImageQuality: with image data and a sampler linked, every
// quality_every iterations the stage draws quality_samples chains on its
// own stream (bank left alone) and reports MMD2 against held-out examples,
// its floor and the saturation; report.json, the figure and a saved state
// carry them; a shifted sampler is far above the floor.
func TestImageQuality(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	data := &digitData{}
	good, bad := &imageSampler{s: sdk.NewStream(1, "good")}, &imageSampler{s: sdk.NewStream(1, "bad"), shift: 0.5}
	vals := map[string]any{"data": "data", "sampler": "sampler", "quality_every": 2, "quality_samples": 40, "report_every": 0}
	p, diags := qualityPlugin(t, dir, data, good, vals)
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	obs, err := p.Observe(ctx, records(1, []float64{0.1, 0.2, 0.1}, nil, 1))
	if err != nil {
		t.Fatal(err)
	}
	if len(good.reqs) != 1 || good.reqs[0] != (sdk.SampleRequest{N: 40, LeaveBank: true, T: 2, Stream: "diag:diag"}) {
		t.Fatalf("sample requests %+v", good.reqs)
	}
	if len(data.reqs) != 1 || data.reqs[0] != (sdk.NextRequest{N: 200, Stream: "diag:diag", Split: sdk.SplitTest, NoiseSet: true}) {
		t.Fatalf("data requests %+v", data.reqs)
	}
	m := obs.Metrics
	for _, k := range []string{"mmd2_samples", "mmd2_floor", "mmd2_floor_sd", "sat_samples", "sat_data", "beyond_samples"} {
		if _, ok := m[k]; !ok {
			t.Fatalf("no %s in %v (events %v)", k, m, obs.Events)
		}
	}
	if d := m["mmd2_samples"] - m["mmd2_floor"]; d < -4*m["mmd2_floor_sd"] || d > 4*m["mmd2_floor_sd"] || m["beyond_samples"] != 0 || m["sat_samples"] < 0.4 {
		t.Errorf("samples like the data: %v", m)
	}
	rep, err := p.Report(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	var doc ReportDoc
	if err := json.Unmarshal(rep.Summary, &doc); err != nil || doc.Quality == nil || doc.Quality.T != 2 || doc.Metrics["mmd2_samples"] != m["mmd2_samples"] {
		t.Fatalf("report: %v %+v", err, doc)
	}
	if _, err := os.Stat(filepath.Join(dir, FigureFile)); err != nil {
		t.Error(err)
	}
	if line := p.figureNote(); !strings.Contains(line, "MMD^2 to held-out digits") {
		t.Errorf("figure note %q", line)
	}
	st, err := p.SaveState(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// The same stage with a sampler whose samples are shifted by 0.5.
	q, _ := qualityPlugin(t, "", data, bad, vals)
	if err := q.LoadState(ctx, st); err != nil {
		t.Fatal(err)
	}
	if r, _ := q.Report(ctx, false); !strings.Contains(string(r.Summary), `"mmd2_samples"`) {
		t.Errorf("report after LoadState: %s", r.Summary)
	}
	obs, err = q.Observe(ctx, records(4, []float64{0.1}, nil, 2))
	if err != nil {
		t.Fatal(err)
	}
	b := obs.Metrics
	if b["mmd2_floor"] != m["mmd2_floor"] || !(b["mmd2_samples"] > b["mmd2_floor"]+10*b["mmd2_floor_sd"]) || !(b["beyond_samples"] > 0.1) {
		t.Errorf("shifted samples: %v, floor as before %v", b, m["mmd2_floor"])
	}
}

// TestImageQualityConfigure: image data needs a sampler; energy is
// ignored with a warning; a persistent bank smaller than quality_samples
// is refused; the declared cost is the quality draws.
func TestImageQualityConfigure(t *testing.T) {
	data, s := &digitData{}, &imageSampler{s: sdk.NewStream(1, "x")}
	_, diags := qualityPlugin(t, "", data, s, map[string]any{"data": "data", "sampler": "sampler", "energy": "energy", "quality_samples": 40})
	if diags.HasErrors() || !strings.Contains(warnings(diags), "energy unused") {
		t.Errorf("energy with images: %v", diags)
	}
	_, diags = qualityPlugin(t, "", data, s, map[string]any{"data": "data", "sampler": "sampler", "quality_samples": 60})
	if !diags.HasErrors() || !strings.Contains(diags.Err().Error(), "bank_size >= 60") {
		t.Errorf("bank of 50 for 60 samples: %v", diags)
	}
	_, diags = qualityPlugin(t, "", data, s, map[string]any{"data": "data", "sampler": "sampler", "quality_samples": 60, "samples_init": "uniform"})
	if diags.HasErrors() {
		t.Errorf("samples from noise: %v", diags.Err())
	}
	cfg := newConfig(t, "", map[string]any{"data": "data"})
	cfg.Upstream = map[string]sdk.Shapes{"data": {"sample": {1, 4, 4}}}
	cfg.SetLink("data", data)
	if _, diags := New().Configure(context.Background(), cfg); !diags.HasErrors() || !strings.Contains(diags.Err().Error(), "sampler required") {
		t.Errorf("no sampler: %v", diags)
	}
}

func warnings(p sdk.Problems) string {
	var b strings.Builder
	for _, d := range p {
		b.WriteString(d.Summary + ": " + d.Detail + "\n")
	}
	return b.String()
}
