package testplugins

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/ebmflow/ebmflow/sdk"
)

// Recorder is a diagnostics stage that keeps every record and writes them
// to testdiag.json (testdiag-STAGE.json for a stage not named "diag") in
// the run folder at Report. It warns when d_st < 0 for the first time. With
// tensors = true it asks for each record's positives and negatives and
// keeps their shapes and sums. With a sampler and draw_rows it draws that
// many chains through the sampler every draw_every iterations (on its own
// stream, the bank left alone), as a diagnostics stage measuring samples
// would, and declares that cost (the test sampler keeps one random stream,
// so the draws change the training chains that follow).
type Recorder struct {
	faults
	dir     string
	file    string
	tensors bool
	stage   string
	sampler sdk.SamplerLink
	rows    int
	every   int
	drawn   int
	mu      sync.Mutex
	recs    []Observed
	warn    bool
}

// Observed is a record as a Recorder received it, with the shapes and sums
// of its tensors (nil when none came).
type Observed struct {
	sdk.Record
	PosShape []int   `json:"pos_shape,omitempty"`
	NegShape []int   `json:"neg_shape,omitempty"`
	PosSum   float64 `json:"pos_sum,omitempty"`
	NegSum   float64 `json:"neg_sum,omitempty"`
}

func sum(t *sdk.Tensor) float64 {
	var s float64
	for i := 0; i < t.Len(); i++ {
		s += t.At(i)
	}
	return s
}

func NewRecorder() *Recorder { return &Recorder{} }

func (r *Recorder) Info() sdk.Info {
	return sdk.Info{Name: "testdiag", Kind: sdk.KindDiagnostics, Version: "0.1.0", Description: "record keeper for tests"}
}

func (r *Recorder) Schema() sdk.Schema {
	return withFaults(sdk.Attribute{Name: "tensors", Type: sdk.TypeBool, Doc: "ask for each record's positives and negatives"},
		sdk.Attribute{Name: "sampler", Type: sdk.StageRef(sdk.KindSampler), Doc: "a sampler to draw chains through (optional)"},
		sdk.Attribute{Name: "draw_rows", Type: sdk.TypeInt, Default: 0.0, Bounds: sdk.Between(0, 1e6), Doc: "chains drawn through the sampler at each draw (default 0: none)"},
		sdk.Attribute{Name: "draw_every", Type: sdk.TypeInt, Default: 1.0, Bounds: sdk.Between(1, 1e8), Doc: "iterations between draws (default 1)"})
}

func (r *Recorder) Configure(ctx context.Context, cfg *sdk.Config) (sdk.Shapes, sdk.Problems) {
	r.faults.configure(cfg)
	r.dir = cfg.RunDir
	r.file = "testdiag.json"
	if cfg.Stage != "diag" && cfg.Stage != "" {
		r.file = "testdiag-" + cfg.Stage + ".json"
	}
	r.tensors = cfg.Bool("tensors")
	if r.tensors {
		cfg.ObserveTensors()
	}
	r.stage, r.sampler, r.rows, r.every = cfg.Stage, nil, cfg.Int("draw_rows"), cfg.Int("draw_every")
	var diags sdk.Problems
	if cfg.Has("sampler") {
		var err error
		if r.sampler, err = cfg.Sampler("sampler"); err != nil && cfg.RunDir != "" {
			diags.Errorf([]string{"sampler"}, "No sampler stage", "%v", err)
		}
		if r.rows > 0 {
			cfg.DeclareCost(sdk.Cost{Draws: []sdk.Draw{{Link: "sampler", Rows: r.rows, Every: r.every}}})
		}
	}
	return nil, diags
}

func (r *Recorder) Observe(ctx context.Context, recs []sdk.Record) (*sdk.Observation, error) {
	r.enter("observe")
	r.mu.Lock()
	defer r.mu.Unlock()
	obs := &sdk.Observation{Metrics: map[string]float64{}}
	for _, rec := range recs {
		o := Observed{Record: rec}
		if rec.Pos != nil {
			o.PosShape, o.PosSum = rec.Pos.Shape, sum(rec.Pos)
		}
		if rec.Neg != nil {
			o.NegShape, o.NegSum = rec.Neg.Shape, sum(rec.Neg)
		}
		r.recs = append(r.recs, o)
		if r.sampler != nil && r.rows > 0 && rec.T%r.every == 0 {
			res, err := r.sampler.Sample(ctx, sdk.SampleRequest{N: r.rows, T: rec.T, LeaveBank: true, Stream: "testdiag:" + r.stage})
			if err != nil {
				return nil, fmt.Errorf("draw through the sampler: %w", err)
			}
			r.drawn += res.X.Batch()
		}
		if rec.DST < 0 && !r.warn {
			r.warn = true
			obs.Events = append(obs.Events, sdk.Event{T: rec.T, Level: "warn", Message: "d_st went negative"})
		}
	}
	obs.Metrics["records"] = float64(len(r.recs))
	if r.sampler != nil {
		obs.Metrics["drawn"] = float64(r.drawn)
	}
	return obs, nil
}

func (r *Recorder) Report(ctx context.Context, final bool) (*sdk.Report, error) {
	r.enter("report")
	r.mu.Lock()
	defer r.mu.Unlock()
	b, err := json.Marshal(map[string]any{"final": final, "records": r.recs})
	if err != nil {
		return nil, err
	}
	if r.dir == "" {
		return &sdk.Report{Summary: b}, nil
	}
	if err := os.WriteFile(filepath.Join(r.dir, r.file), b, 0o644); err != nil {
		return nil, fmt.Errorf("write report: %w", err)
	}
	return &sdk.Report{Summary: b, Files: []string{r.file}}, nil
}

// recorderState is a Recorder's saved state.
type recorderState struct {
	Records []Observed `json:"records"`
	Drawn   int        `json:"drawn,omitempty"`
}

func (r *Recorder) SaveState(ctx context.Context) (*sdk.State, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, err := json.Marshal(recorderState{Records: r.recs, Drawn: r.drawn})
	return &sdk.State{Meta: b}, err
}

func (r *Recorder) LoadState(ctx context.Context, st *sdk.State) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s recorderState
	if err := json.Unmarshal(st.Meta, &s); err != nil {
		return err
	}
	r.recs, r.drawn = s.Records, s.Drawn
	return nil
}

var _ sdk.Diagnoser = (*Recorder)(nil)
