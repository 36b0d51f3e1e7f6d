package langevin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/ebmflow/ebmflow/sdk"
)

// stateVersion is the version of the Meta layout below; version 1 (without
// the consumers' streams) is still read.
const stateVersion = 2

// meta is the JSON saved in sdk.State.Meta.
type meta struct {
	Version int    `json:"version"`
	Stream  []byte `json:"stream"` // the training stream's state, base64 in JSON
	// Streams holds the named consumers' stream states.
	Streams  map[string][]byte `json:"streams,omitempty"`
	Stats    Stats             `json:"stats"`
	Shape    []int             `json:"shape"`
	DType    string            `json:"dtype"`
	BankSize int               `json:"bank_size"`
	HasBank  bool              `json:"has_bank"`
}

// SaveState returns the state SaveStateTo writes, the bank copied.
func (s *Plugin) SaveState(ctx context.Context) (*sdk.State, error) { return sdk.SaveStateVia(ctx, s) }

// LoadState restores a state saved by SaveState or SaveStateTo.
func (s *Plugin) LoadState(ctx context.Context, st *sdk.State) error {
	return sdk.LoadStateVia(ctx, s, st)
}

// SaveStateTo writes the random streams' states (the training loop's and
// each named consumer's), the counters and, once it exists, the persistent
// bank as tensor "bank". The bank is not copied: the SDK sends it from the
// sampler's memory (sdk.StateSaver).
func (s *Plugin) SaveStateTo(ctx context.Context, w sdk.StateWriter) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.configured {
		return errors.New("save state: sampler not configured")
	}
	rs, err := s.rng.MarshalBinary()
	if err != nil {
		return fmt.Errorf("save state: stream: %w", err)
	}
	m := meta{
		Version:  stateVersion,
		Stream:   rs,
		Stats:    s.stats,
		Shape:    s.p.Shape,
		DType:    s.p.DType.String(),
		BankSize: s.p.BankSize,
		HasBank:  s.bank != nil,
	}
	for name, r := range s.streams {
		b, err := r.MarshalBinary()
		if err != nil {
			return fmt.Errorf("save state: stream %q: %w", name, err)
		}
		if m.Streams == nil {
			m.Streams = map[string][]byte{}
		}
		m.Streams[name] = b
	}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	w.SetMeta(b)
	if s.bank != nil {
		return w.Tensor("bank", s.bank)
	}
	return nil
}

// LoadStateFrom restores a state saved by a sampler with the same sample
// shape, dtype and bank size; the sampler then continues bit for bit. The
// bank is read straight into the sampler's bank when it has one (else into
// a new one): no second copy. Everything else is checked first; if the
// bank's bytes then fail to arrive, the bank is left partly overwritten,
// and the host discards a stage whose LoadState failed.
func (s *Plugin) LoadStateFrom(ctx context.Context, r sdk.StateReader) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.configured {
		return errors.New("load state: sampler not configured")
	}
	var m meta
	if err := json.Unmarshal(r.Meta(), &m); err != nil {
		return fmt.Errorf("load state: meta: %w", err)
	}
	if m.Version != stateVersion && m.Version != 1 {
		return fmt.Errorf("load state: meta version %d, this sampler reads %d", m.Version, stateVersion)
	}
	if !equalShape(m.Shape, s.p.Shape) || m.DType != s.p.DType.String() || m.BankSize != s.p.BankSize {
		return fmt.Errorf("load state: %w: saved chains %s %s with bank %d, configured %s %s with bank %d", sdk.ErrShape,
			m.DType, sdk.FormatShape(m.Shape), m.BankSize, s.p.DType, sdk.FormatShape(s.p.Shape), s.p.BankSize)
	}
	rng := sdk.NewStream(0, "langevin")
	if err := rng.UnmarshalBinary(m.Stream); err != nil {
		return fmt.Errorf("load state: stream: %w", err)
	}
	streams := map[string]*sdk.Stream{}
	for name, b := range m.Streams {
		r := sdk.NewStream(0, "langevin:"+name)
		if err := r.UnmarshalBinary(b); err != nil {
			return fmt.Errorf("load state: stream %q: %w", name, err)
		}
		streams[name] = r
	}
	var bank *sdk.Tensor
	for {
		info, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("load state: %w", err)
		}
		if info.Name != "bank" || !m.HasBank {
			continue
		}
		want := append([]int{s.p.BankSize}, s.p.Shape...)
		if info.DType != s.p.DType || !equalShape(info.Shape, want) {
			return fmt.Errorf("load state: bank: %w: saved %s %s, want %s %s", sdk.ErrShape, info.DType, sdk.FormatShape(info.Shape), s.p.DType, sdk.FormatShape(want))
		}
		bank = s.bank
		if bank == nil {
			bank = sdk.NewTensor(s.p.DType, want...)
		}
		if err := r.ReadInto(bank); err != nil {
			return fmt.Errorf("load state: bank: %w", err)
		}
	}
	if m.HasBank && bank == nil {
		return errors.New("load state: meta says a bank was saved but tensor \"bank\" is missing")
	}
	s.rng = rng
	s.streams = streams
	s.bank = bank
	s.stats = m.Stats
	s.lastIdx = nil
	return nil
}
