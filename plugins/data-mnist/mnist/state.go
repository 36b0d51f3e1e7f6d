package mnist

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/ebmflow/ebmflow/sdk"
)

// stateVersion is the version of the saved state's layout.
const stateVersion = 1

// savedState is the JSON in State.Meta. Permutations are not stored: each
// is rebuilt from the shuffle stream's state before it was drawn.
type savedState struct {
	Version     int                    `json:"version"`
	Fingerprint string                 `json:"fingerprint"`
	Size        int                    `json:"size"`
	Streams     map[string]savedStream `json:"streams"`
}

type savedStream struct {
	RNG          []byte `json:"rng"`
	Shuffle      []byte `json:"shuffle"`
	ShuffleStart []byte `json:"shuffle_start,omitempty"`
	Pos          int    `json:"pos"`
	Epoch        int    `json:"epoch"`
}

// SaveState returns the states of every named stream (and the epoch
// positions) as JSON in Meta; it holds no tensors.
func (p *Plugin) SaveState(ctx context.Context) (*sdk.State, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.ready {
		return nil, errNotConfigured
	}
	st := savedState{Version: stateVersion, Fingerprint: p.p.fingerprint(), Size: p.size(), Streams: map[string]savedStream{}}
	for name, s := range p.streams {
		rng, err := s.rng.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("data-mnist: save stream %q: %w", name, err)
		}
		sh, err := s.shuffle.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("data-mnist: save stream %q: %w", name, err)
		}
		st.Streams[name] = savedStream{RNG: rng, Shuffle: sh, ShuffleStart: s.shuffleStart, Pos: s.pos, Epoch: s.epoch}
	}
	meta, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("data-mnist: save state: %w", err)
	}
	return &sdk.State{Meta: meta}, nil
}

// LoadState restores a state saved by a stage with the same data set,
// selection and sampling order; streams absent from it start afresh.
func (p *Plugin) LoadState(ctx context.Context, st *sdk.State) error {
	if st == nil {
		return fmt.Errorf("data-mnist: load state: nil state")
	}
	var saved savedState
	if err := json.Unmarshal(st.Meta, &saved); err != nil {
		return fmt.Errorf("data-mnist: load state: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.ready {
		return errNotConfigured
	}
	if saved.Version != stateVersion {
		return fmt.Errorf("data-mnist: load state: layout version %d, want %d", saved.Version, stateVersion)
	}
	if fp := p.p.fingerprint(); saved.Fingerprint != fp || saved.Size != p.size() {
		return fmt.Errorf("data-mnist: load state: saved for %q with %d samples, this stage is %q with %d", saved.Fingerprint, saved.Size, fp, p.size())
	}
	names := slices.Sorted(maps.Keys(saved.Streams))
	streams := map[string]*stream{}
	for _, name := range names {
		ss := saved.Streams[name]
		s := newStream(p.seed, name)
		if err := s.rng.UnmarshalBinary(ss.RNG); err != nil {
			return fmt.Errorf("data-mnist: load stream %q: %w", name, err)
		}
		if ss.ShuffleStart != nil {
			if ss.Pos < 0 || ss.Pos > p.size() {
				return fmt.Errorf("data-mnist: load stream %q: epoch position %d outside [0, %d]", name, ss.Pos, p.size())
			}
			if err := s.shuffle.UnmarshalBinary(ss.ShuffleStart); err != nil {
				return fmt.Errorf("data-mnist: load stream %q: %w", name, err)
			}
			s.newEpoch(p.size())
			if now, _ := s.shuffle.MarshalBinary(); !bytes.Equal(now, ss.Shuffle) {
				return fmt.Errorf("data-mnist: load stream %q: the epoch permutation does not rebuild to the saved state", name)
			}
			s.pos = ss.Pos
		}
		if err := s.shuffle.UnmarshalBinary(ss.Shuffle); err != nil {
			return fmt.Errorf("data-mnist: load stream %q: %w", name, err)
		}
		s.epoch = ss.Epoch
		streams[name] = s
	}
	p.streams = streams
	return nil
}

// size returns the number of images, 0 for a toy set.
func (p *Plugin) size() int {
	if p.data == nil {
		return 0
	}
	return p.data.Count
}
