package oscillation

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"path/filepath"

	"github.com/ebmflow/ebmflow/sdk"
)

// Names of the files Report writes into the run folder.
const (
	FigureFile  = "diagnostics.png"
	DensityFile = "density.png"
	ReportFile  = "report.json"
)

// ReportDoc is the content of report.json and of the report summary.
type ReportDoc struct {
	Stage   string `json:"stage"`
	Plugin  string `json:"plugin"`
	Version string `json:"version"`
	Final   bool   `json:"final"`
	// T is the last iteration observed; Records the finite records kept;
	// NonFinite the records left out because d_st or r_t was not finite.
	T         int `json:"t"`
	Records   int `json:"records"`
	NonFinite int `json:"non_finite"`
	// Verdict, Class and ClassCode repeat Window.ClassName and
	// Window.Class; Reason is the statistic the class rests on.
	Verdict   string  `json:"verdict"`
	Reason    string  `json:"reason"`
	Class     string  `json:"class"`
	ClassCode Class   `json:"class_code"`
	Window    Stats   `json:"window"`
	Options   options `json:"options"`
	// Density is the density diagnostic at T, when on; DensityError says why
	// it could not be computed.
	Density *densityResult `json:"density,omitempty"`
	// Metrics repeats the density diagnostic's numbers (tv_ebm, tv_floor,
	// tv_samples) of Density and the image quality diagnostic's of
	// Quality, as they appear in metrics.jsonl.
	Metrics      map[string]float64 `json:"metrics"`
	DensityError string             `json:"density_error,omitempty"`
	// Quality is the last image quality evaluation, when on (its numbers
	// are in Metrics too); QualityError says why there is none.
	Quality      *qualityResult `json:"quality,omitempty"`
	QualityError string         `json:"quality_error,omitempty"`
	Files        []string       `json:"files"`
}

// Report recomputes the window statistics over everything observed so far,
// takes the last density evaluation Observe made (it never evaluates
// again, so report.json, density.png and metrics.jsonl agree) and, when the
// run folder is set, writes diagnostics.png, density.png and report.json
// into it. The summary is the JSON of report.json. Report does not change
// the event state of Observe.
func (p *Plugin) Report(ctx context.Context, final bool) (*sdk.Report, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.report(ctx, final)
}

// report is Report with p.mu held; Observe calls it every report_every
// iterations.
func (p *Plugin) report(ctx context.Context, final bool) (*sdk.Report, error) {
	doc := p.reportDoc(final)
	if p.dens != nil {
		switch {
		case p.dens.has:
			r := p.dens.last
			doc.Density = &r
			doc.Metrics["tv_ebm"] = r.TVEBM
			doc.Metrics["tv_floor"] = r.TVFloor
			if r.HasSamples {
				doc.Metrics["tv_samples"] = r.TVSamples
			}
		case p.dens.lastErr != "":
			doc.DensityError = p.dens.lastErr
		default:
			doc.DensityError = fmt.Sprintf("no evaluation yet (every density_every = %d iterations)", p.opts.DensityEvery)
		}
	}
	if p.qual != nil {
		switch {
		case p.qual.has:
			r := p.qual.last
			doc.Quality = &r
			maps.Copy(doc.Metrics, r.metrics())
		case p.qual.lastErr != "":
			doc.QualityError = p.qual.lastErr
		default:
			doc.QualityError = fmt.Sprintf("no evaluation yet (every quality_every = %d iterations)", p.opts.QualityEvery)
		}
	}
	if p.runDir != "" {
		doc.Files = append(doc.Files, FigureFile)
		if doc.Density != nil {
			doc.Files = append(doc.Files, DensityFile)
		}
		doc.Files = append(doc.Files, ReportFile)
	}
	summary, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("report: encode: %w", err)
	}
	if p.runDir == "" {
		return &sdk.Report{Summary: summary}, nil
	}
	if err := sdk.AtomicWrite(filepath.Join(p.runDir, FigureFile), 0o644, func(w io.Writer) error {
		return writeFigure(w, p.hist, &doc.Window, p.opts, p.figureTitle(), p.figureNote())
	}); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if doc.Density != nil {
		if err := p.writeDensity(doc.Density.T); err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
	}
	if err := sdk.AtomicWrite(filepath.Join(p.runDir, ReportFile), 0o644, func(w io.Writer) error {
		_, err := w.Write(append(bytes.Clone(summary), '\n'))
		return err
	}); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return &sdk.Report{Summary: summary, Files: doc.Files}, nil
}

// reportDoc gathers the statistics of the current window.
func (p *Plugin) reportDoc(final bool) ReportDoc {
	s := statsOf(p.hist, p.opts, &p.sc)
	info := p.Info()
	return ReportDoc{
		Stage: p.stage, Plugin: info.Name, Version: info.Version, Final: final,
		T: p.lastT, Records: p.hist.len(), NonFinite: p.nonFinite,
		Verdict: s.ClassName, Reason: s.Reason, Class: s.ClassName, ClassCode: s.Class, Window: s, Options: p.opts,
		Metrics: map[string]float64{},
	}
}
