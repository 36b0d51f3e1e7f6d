package oscillation

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ebmflow/ebmflow/sdk"
)

// stateVersion is the version of the saved state's layout.
const stateVersion = 1

// Names of the saved tensors.
const (
	tensorT       = "history.t"
	tensorDST     = "history.d_st"
	tensorR       = "history.r_t"
	tensorSamples = "density.samples"
	tensorModel   = "density.model"
)

// stateMeta is the JSON part of the saved state.
type stateMeta struct {
	Version   int   `json:"version"`
	LastT     int   `json:"last_t"`
	NonFinite int   `json:"non_finite"`
	Known     bool  `json:"known"`
	Class     Class `json:"class"`
	RState    int   `json:"r_state"`
	HasFloor  bool  `json:"has_floor,omitempty"`
	// Floor is TV_floor, kept so a resumed run need not draw from the data
	// stage again.
	Floor   float64 `json:"floor,omitempty"`
	FloorSD float64 `json:"floor_sd,omitempty"`
	// Density is the last density evaluation (its model density in tensor
	// "density.model"), DensityErr why the last one failed.
	Density    *densityResult `json:"density,omitempty"`
	DensityErr string         `json:"density_error,omitempty"`
	// Quality is the last image quality evaluation, QualityErr why the
	// last one failed. Its held-out baseline is not saved: it is drawn
	// again, identically, on the first evaluation after a resume.
	Quality    *qualityResult `json:"quality,omitempty"`
	QualityErr string         `json:"quality_error,omitempty"`
}

// SaveState returns the history (three float64 tensors of shape [n]: the
// iterations, d_st and r_t), the latest short-run samples (drawn or handed
// over) and the event state.
func (p *Plugin) SaveState(ctx context.Context) (*sdk.State, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := stateMeta{Version: stateVersion, LastT: p.lastT, NonFinite: p.nonFinite,
		Known: p.known, Class: p.class, RState: p.rState}
	n := p.hist.len()
	st := &sdk.State{Tensors: map[string]*sdk.Tensor{
		tensorT:   sdk.FromFloat64(append([]float64(nil), p.hist.T...), n),
		tensorDST: sdk.FromFloat64(append([]float64(nil), p.hist.D...), n),
		tensorR:   sdk.FromFloat64(append([]float64(nil), p.hist.R...), n),
	}}
	if p.dens != nil {
		m.HasFloor, m.Floor, m.FloorSD = p.dens.hasFloor, p.dens.floor, p.dens.floorSD
		m.DensityErr = p.dens.lastErr
		if p.dens.has {
			r := p.dens.last
			m.Density = &r
			st.Tensors[tensorModel] = sdk.FromFloat64(append([]float64(nil), r.model...), len(r.model))
		}
		if p.dens.samples != nil {
			st.Tensors[tensorSamples] = p.dens.samples.Clone()
		}
	}
	if p.qual != nil {
		m.QualityErr = p.qual.lastErr
		if p.qual.has {
			r := p.qual.last
			m.Quality = &r
		}
	}
	var err error
	if st.Meta, err = json.Marshal(m); err != nil {
		return nil, fmt.Errorf("save state: %w", err)
	}
	return st, nil
}

// LoadState restores a state returned by SaveState of a plugin with the same
// configuration.
func (p *Plugin) LoadState(ctx context.Context, st *sdk.State) error {
	if st == nil {
		return fmt.Errorf("load state: nil state")
	}
	var m stateMeta
	if err := json.Unmarshal(st.Meta, &m); err != nil {
		return fmt.Errorf("load state: meta: %w", err)
	}
	if m.Version != stateVersion {
		return fmt.Errorf("load state: version %d, want %d", m.Version, stateVersion)
	}
	var h history
	for _, x := range []struct {
		name string
		dst  *[]float64
	}{{tensorT, &h.T}, {tensorDST, &h.D}, {tensorR, &h.R}} {
		t, ok := st.Tensors[x.name]
		if !ok {
			return fmt.Errorf("load state: tensor %q missing", x.name)
		}
		if err := t.Expect(sdk.Float64, -1); err != nil {
			return fmt.Errorf("load state: tensor %q: %w", x.name, err)
		}
		*x.dst = append([]float64(nil), t.F64...)
	}
	if len(h.T) != len(h.D) || len(h.T) != len(h.R) {
		return fmt.Errorf("load state: %w: history lengths %d, %d, %d differ", sdk.ErrShape, len(h.T), len(h.D), len(h.R))
	}
	samples := st.Tensors[tensorSamples]
	if samples != nil {
		if err := samples.Validate(); err != nil {
			return fmt.Errorf("load state: tensor %q: %w", tensorSamples, err)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hist = h
	p.lastT, p.nonFinite = m.LastT, m.NonFinite
	p.known, p.class, p.rState = m.Known, m.Class, m.RState
	if p.dens != nil {
		p.dens.hasFloor, p.dens.floor, p.dens.floorSD = m.HasFloor, m.Floor, m.FloorSD
		p.dens.samples = samples.Clone()
		p.dens.has, p.dens.last, p.dens.lastErr = false, densityResult{}, m.DensityErr
		if m.Density != nil {
			mt, ok := st.Tensors[tensorModel]
			if !ok || mt.Expect(sdk.Float64, FineCells*FineCells) != nil {
				return fmt.Errorf("load state: tensor %q missing or not [%d] float64", tensorModel, FineCells*FineCells)
			}
			p.dens.has, p.dens.last = true, *m.Density
			p.dens.last.model = append([]float64(nil), mt.F64...)
		}
	}
	if p.qual != nil {
		p.qual.has, p.qual.last, p.qual.lastErr = m.Quality != nil, qualityResult{}, m.QualityErr
		if m.Quality != nil {
			p.qual.last = *m.Quality
		}
	}
	return nil
}
