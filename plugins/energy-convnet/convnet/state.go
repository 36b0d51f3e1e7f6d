package convnet

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/ebmflow/ebmflow/sdk"
)

// State tensor name prefixes for the Adam moments; the suffix is the
// parameter's state_dict name.
const (
	prefixExpAvg   = "optim.exp_avg."
	prefixExpAvgSq = "optim.exp_avg_sq."
)

// stateMeta is the JSON in State.Meta.
type stateMeta struct {
	Format   int      `json:"format"`
	Settings settings `json:"settings"`
	// Step is the number of Adam steps taken (0 for SGD).
	Step int `json:"step"`
	// InitStream is the state of the "init" stream after initialisation.
	InitStream []byte `json:"init_stream"`
}

// SaveState returns the weights under their PyTorch state_dict names
// (f.0.weight, f.0.bias, ...), the Adam moments under optim.exp_avg.NAME and
// optim.exp_avg_sq.NAME, and the settings and Adam step in Meta.
func (p *Plugin) SaveState(ctx context.Context) (*sdk.State, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.params == nil {
		return nil, fmt.Errorf("save state: %w", errNotConfigured)
	}
	st := &sdk.State{Tensors: map[string]*sdk.Tensor{}}
	meta := stateMeta{Format: 1, Settings: p.set}
	for i, q := range p.params {
		st.Tensors[q.Name] = toSDK(q.Value)
		if p.opt != nil {
			st.Tensors[prefixExpAvg+q.Name] = toSDK(p.opt.m[i])
			st.Tensors[prefixExpAvgSq+q.Name] = toSDK(p.opt.v[i])
		}
	}
	if p.opt != nil {
		meta.Step = p.opt.step
	}
	b, err := p.init.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("save state: init stream: %w", err)
	}
	meta.InitStream = b
	if st.Meta, err = json.Marshal(meta); err != nil {
		return nil, fmt.Errorf("save state: meta: %w", err)
	}
	return st, nil
}

// LoadState restores a state saved by a plugin with the same settings, or,
// when st.Meta is empty, weights alone (Adam then restarts at step 0). It
// checks that the tensor names are exactly the expected ones and that every
// dtype and shape matches before changing anything.
func (p *Plugin) LoadState(ctx context.Context, st *sdk.State) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.params == nil {
		return fmt.Errorf("load state: %w", errNotConfigured)
	}
	if st == nil {
		return fmt.Errorf("load state: nil state")
	}
	// Without Meta the state is weights only (for example a PyTorch
	// state_dict converted to safetensors): the optimiser starts afresh.
	weightsOnly := len(st.Meta) == 0
	var meta stateMeta
	if !weightsOnly {
		if err := json.Unmarshal(st.Meta, &meta); err != nil {
			return fmt.Errorf("load state: meta: %w", err)
		}
		if a, b := archKey(meta.Settings), archKey(p.set); a != b {
			return fmt.Errorf("load state: saved net %s does not match configured net %s", a, b)
		}
	}
	want := map[string][]int{}
	for _, q := range p.params {
		want[q.Name] = q.Shape
		if p.opt != nil && !weightsOnly {
			want[prefixExpAvg+q.Name] = q.Shape
			want[prefixExpAvgSq+q.Name] = q.Shape
		}
	}
	var missing, extra []string
	for name := range want {
		if _, ok := st.Tensors[name]; !ok {
			missing = append(missing, name)
		}
	}
	for name := range st.Tensors {
		if _, ok := want[name]; !ok {
			extra = append(extra, name)
		}
	}
	if len(missing) > 0 || len(extra) > 0 {
		sort.Strings(missing)
		sort.Strings(extra)
		return fmt.Errorf("load state: tensor names differ: missing %q, unexpected %q", missing, extra)
	}
	for name, shape := range want {
		if err := st.Tensors[name].Expect(p.dt, shape...); err != nil {
			return fmt.Errorf("load state: tensor %q: %w", name, err)
		}
	}
	for _, q := range p.params {
		copyFromSDK(q.Value, st.Tensors[q.Name])
	}
	p.weightsChanged()
	if p.opt != nil && weightsOnly {
		p.opt = newAdam(p.params, p.set.Beta1, p.set.Beta2, p.set.AdamEps)
	} else if p.opt != nil {
		for i, q := range p.params {
			copyFromSDK(p.opt.m[i], st.Tensors[prefixExpAvg+q.Name])
			copyFromSDK(p.opt.v[i], st.Tensors[prefixExpAvgSq+q.Name])
		}
		p.opt.step = meta.Step
	}
	if len(meta.InitStream) > 0 {
		if err := p.init.UnmarshalBinary(meta.InitStream); err != nil {
			return fmt.Errorf("load state: init stream: %w", err)
		}
	}
	return nil
}

// archKey summarises the settings that fix the tensor layout.
func archKey(s settings) string {
	if s.Net == "toy" {
		return fmt.Sprintf("toy/%s/%s", s.DType, s.Optimizer)
	}
	return fmt.Sprintf("%s(channels=%d, image_size=%d, n_f=%d)/%s/%s", s.Net, s.Channels, s.ImageSize, s.NF, s.DType, s.Optimizer)
}
