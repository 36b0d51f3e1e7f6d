package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/ebmflow/ebmflow/sdk"
	"github.com/rs/zerolog"
)

// Files the core writes into the run folder besides metrics.jsonl.
const (
	// EventsFile holds the diagnostics stages' events, one JSON object a
	// line: {"stage", "t", "level", "message"}.
	EventsFile = "events.jsonl"
	// SummaryFile holds the latest report summary of every diagnostics
	// stage (see Summary).
	SummaryFile = "summary.json"
)

// Summary is the content of summary.json: the iteration of the latest
// reports and each diagnostics stage's report summary (a JSON object), by
// stage name.
type Summary struct {
	T      int                        `json:"t"`
	Final  bool                       `json:"final"`
	Stages map[string]json.RawMessage `json:"stages"`
}

// ReadSummary reads a run folder's summary.json.
func ReadSummary(dir string) (*Summary, error) {
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		return nil, err
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", SummaryFile, err)
	}
	return &s, nil
}

// eventLine is one line of events.jsonl.
type eventLine struct {
	Stage string `json:"stage"`
	sdk.Event
}

// checkBatch checks that the tensor a stage returned for a batch request
// holds n samples of the per-sample shape want (nil: not declared).
func checkBatch(stage, what string, x *sdk.Tensor, n int, want []int) error {
	if x == nil {
		return fmt.Errorf("stage %q returned no %s: %w", stage, what, sdk.ErrShape)
	}
	if err := x.Validate(); err != nil {
		return fmt.Errorf("stage %q returned malformed %s: %w", stage, what, err)
	}
	shape := append([]int{n}, want...)
	if x.Batch() != n || (want != nil && !slices.Equal(x.Shape, shape)) {
		return fmt.Errorf("stage %q returned %s of shape %s for a request of %d samples of shape %s: %w",
			stage, what, sdk.FormatShape(x.Shape), n, sdk.FormatShape(want), sdk.ErrShape)
	}
	return nil
}

// observe hands the iteration's record to every diagnostics stage in order
// (with the positives and negatives to those that asked for them), adds
// their metrics to m.Extra as "STAGE.NAME", and logs and records their
// events.
func (r *Run) observe(ctx context.Context, m *Metric, pos, neg *sdk.Tensor) error {
	for _, d := range r.P.Train.Diagnostics {
		rec := *m
		rec.Extra = maps.Clone(m.Extra)
		if r.proc(d).ObserveTensors {
			rec.Pos, rec.Neg = pos, neg
		}
		obs, err := r.proc(d).Observe(ctx, []sdk.Record{rec})
		if err != nil {
			return err
		}
		for k, v := range obs.Metrics {
			if m.Extra == nil {
				m.Extra = map[string]float64{}
			}
			m.Extra[d+"."+k] = v
		}
		if err := r.events(d, obs.Events); err != nil {
			return err
		}
	}
	return nil
}

// events logs a stage's events at their level and appends them to
// events.jsonl.
func (r *Run) events(stage string, evs []sdk.Event) error {
	if len(evs) == 0 {
		return nil
	}
	var buf bytes.Buffer
	for _, e := range evs {
		lvl, err := zerolog.ParseLevel(e.Level)
		if err != nil || lvl == zerolog.NoLevel {
			lvl = zerolog.InfoLevel
		}
		r.log.WithLevel(lvl).Str("stage", stage).Int("t", e.T).Msg(e.Message)
		b, err := json.Marshal(eventLine{Stage: stage, Event: e})
		if err != nil {
			return fmt.Errorf("events: %w", err)
		}
		buf.Write(append(b, '\n'))
	}
	f, err := os.OpenFile(filepath.Join(r.Dir, EventsFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("events: %w", err)
	}
	_, err = f.Write(buf.Bytes())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("events: %w", err)
	}
	return nil
}

// truncateEvents keeps the events of iterations up to t (a resumed run
// repeats the later ones).
func truncateEvents(dir string, t int) error {
	path := filepath.Join(dir, EventsFile)
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("events: %w", err)
	}
	var out bytes.Buffer
	for _, line := range bytes.Split(b, []byte("\n")) {
		var e eventLine
		if json.Unmarshal(line, &e) == nil && e.T <= t {
			out.Write(append(line, '\n'))
		}
	}
	return os.WriteFile(path, out.Bytes(), 0o644)
}

// report asks every diagnostics stage for its report and writes their
// summaries into summary.json.
func (r *Run) report(ctx context.Context, final bool) error {
	if len(r.P.Train.Diagnostics) == 0 {
		return nil
	}
	s := Summary{T: r.t, Final: final, Stages: map[string]json.RawMessage{}}
	for _, d := range r.P.Train.Diagnostics {
		rep, err := r.proc(d).Report(ctx, final)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		if rep == nil || len(bytes.TrimSpace(rep.Summary)) == 0 {
			continue
		}
		if !json.Valid(rep.Summary) {
			r.log.Warn().Str("stage", d).Msg("report summary is not JSON; left out of " + SummaryFile)
			continue
		}
		s.Stages[d] = json.RawMessage(rep.Summary)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	tmp := filepath.Join(r.Dir, SummaryFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(r.Dir, SummaryFile)); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
