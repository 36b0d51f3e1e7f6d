package langevin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

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

// SaveState returns the random streams' states (the training loop's and
// each named consumer's), the counters and, once it
// exists, the persistent bank as tensor "bank" (a copy).
func (s *Plugin) SaveState(ctx context.Context) (*sdk.State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.configured {
		return nil, errors.New("save state: sampler not configured")
	}
	rs, err := s.rng.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("save state: stream: %w", err)
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
			return nil, fmt.Errorf("save state: stream %q: %w", name, err)
		}
		if m.Streams == nil {
			m.Streams = map[string][]byte{}
		}
		m.Streams[name] = b
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("save state: %w", err)
	}
	st := &sdk.State{Meta: b, Tensors: map[string]*sdk.Tensor{}}
	if s.bank != nil {
		st.Tensors["bank"] = s.bank.Clone()
	}
	return st, nil
}

// LoadState restores a state saved by a sampler with the same sample shape,
// dtype and bank size. The sampler then continues bit for bit.
func (s *Plugin) LoadState(ctx context.Context, st *sdk.State) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.configured {
		return errors.New("load state: sampler not configured")
	}
	if st == nil {
		return errors.New("load state: nil state")
	}
	var m meta
	if err := json.Unmarshal(st.Meta, &m); err != nil {
		return fmt.Errorf("load state: meta: %w", err)
	}
	if m.Version != stateVersion && m.Version != 1 {
		return fmt.Errorf("load state: meta version %d, this sampler reads %d", m.Version, stateVersion)
	}
	if !equalShape(m.Shape, s.p.Shape) || m.DType != s.p.DType.String() || m.BankSize != s.p.BankSize {
		return fmt.Errorf("load state: %w: saved chains %s %s with bank %d, configured %s %s with bank %d", sdk.ErrShape,
			m.DType, sdk.FormatShape(m.Shape), m.BankSize, s.p.DType, sdk.FormatShape(s.p.Shape), s.p.BankSize)
	}
	var bank *sdk.Tensor
	if m.HasBank {
		t, ok := st.Tensors["bank"]
		if !ok {
			return errors.New("load state: meta says a bank was saved but tensor \"bank\" is missing")
		}
		if err := t.Expect(s.p.DType, append([]int{s.p.BankSize}, s.p.Shape...)...); err != nil {
			return fmt.Errorf("load state: bank: %w", err)
		}
		bank = t.Clone()
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
	s.rng = rng
	s.streams = streams
	s.bank = bank
	s.stats = m.Stats
	s.lastIdx = nil
	return nil
}
