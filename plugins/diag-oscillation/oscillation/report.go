package oscillation

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"

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
	// Class and ClassCode repeat Window.ClassName and Window.Class.
	Class     string  `json:"class"`
	ClassCode Class   `json:"class_code"`
	Window    Stats   `json:"window"`
	Options   options `json:"options"`
	// Density is the density diagnostic at T, when on; DensityError says why
	// it could not be computed.
	Density      *densityResult `json:"density,omitempty"`
	DensityError string         `json:"density_error,omitempty"`
	Files        []string       `json:"files"`
}

// Report recomputes the window statistics (and the density diagnostic when
// on) over everything observed so far and, when the run folder is set, writes
// diagnostics.png, density.png and report.json into it. The summary is the
// JSON of report.json. Report does not change the event state of Observe.
func (p *Plugin) Report(ctx context.Context, final bool) (*sdk.Report, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.report(ctx, final, false)
}

// report is Report with p.mu held; Observe calls it every report_every
// iterations with reuse set, so a density evaluation made by Observe at the
// same iteration is not repeated.
func (p *Plugin) report(ctx context.Context, final, reuse bool) (*sdk.Report, error) {
	doc := p.reportDoc(final)
	if p.dens != nil && reuse && p.dens.observed != nil && p.dens.observedT == p.lastT {
		doc.Density = p.dens.observed
	} else if p.dens != nil {
		r, err := p.dens.evaluate(ctx, p.lastT)
		if err != nil {
			doc.DensityError = err.Error()
		} else {
			doc.Density = &r
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
	if err := writeAtomic(p.runDir, FigureFile, func(f *os.File) error {
		return writeFigure(f, p.hist, &doc.Window, p.opts)
	}); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if doc.Density != nil {
		if err := writeAtomic(p.runDir, DensityFile, func(f *os.File) error {
			return writeDensityFigure(f, p.dens)
		}); err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
	}
	if err := writeAtomic(p.runDir, ReportFile, func(f *os.File) error {
		_, err := f.Write(append(bytes.Clone(summary), '\n'))
		return err
	}); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return &sdk.Report{Summary: summary, Files: doc.Files}, nil
}

// reportDoc gathers the statistics of the current window.
func (p *Plugin) reportDoc(final bool) ReportDoc {
	s := computeStats(p.hist.tail(p.opts.Window), p.opts, &p.sc)
	info := p.Info()
	return ReportDoc{
		Stage: p.stage, Plugin: info.Name, Version: info.Version, Final: final,
		T: p.lastT, Records: p.hist.len(), NonFinite: p.nonFinite,
		Class: s.ClassName, ClassCode: s.Class, Window: s, Options: p.opts,
	}
}
