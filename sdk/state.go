package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
)

// Large state. A stage whose state is large (a sampler's persistent bank of
// chains, big weights) implements StateSaver and StateLoader besides
// SaveState and LoadState. The SDK then streams the state between the
// plugin's own memory and the checkpoint's files in chunks: neither the
// plugin nor the host ever holds a second whole copy. SaveState and
// LoadState stay for callers in the same process and can be one line each
// (SaveStateVia, LoadStateVia).

// StateSaver is implemented by a plugin that writes its state to a
// StateWriter instead of returning a State.
type StateSaver interface {
	// SaveStateTo gives w the state's blob and its tensors. The tensors
	// are not copied: their memory is read after SaveStateTo returns,
	// while the host waits for the state, and must not change until
	// then. The host makes no other call to the stage meanwhile, so the
	// plugin's own tensors (its bank, its weights) can be given as they
	// are. An error returned here reaches the host before any tensor.
	SaveStateTo(ctx context.Context, w StateWriter) error
}

// StateLoader is implemented by a plugin that reads its state from a
// StateReader, one tensor at a time, into storage it already has.
type StateLoader interface {
	// LoadStateFrom restores a state saved by SaveStateTo (or SaveState)
	// of the same plugin and configuration. Tensors come in any order;
	// the ones it does not read are skipped. It should check the whole
	// state before changing anything it cannot undo, as LoadState does:
	// reading into temporary storage is fine for small tensors, and for a
	// large one the plugin decides (a sampler's bank, for example, may be
	// read straight into the bank).
	LoadStateFrom(ctx context.Context, r StateReader) error
}

// StateWriter receives a state during SaveStateTo.
type StateWriter interface {
	// SetMeta sets the opaque blob (conventionally JSON) saved beside the
	// tensors; the last call wins.
	SetMeta(b []byte)
	// Tensor adds t to the state under name. t is read later, in chunks,
	// as the state is sent (see SaveStateTo). Names must be unique.
	Tensor(name string, t *Tensor) error
}

// TensorInfo describes a tensor of a state before its values are read.
type TensorInfo struct {
	Name  string
	DType DType
	Shape []int
}

// StateReader hands a plugin its saved state during LoadStateFrom.
type StateReader interface {
	// Meta returns the state's blob.
	Meta() []byte
	// Next moves to the next tensor and describes it; it returns io.EOF
	// after the last one. A tensor not read before Next is skipped.
	Next() (TensorInfo, error)
	// ReadInto copies the current tensor's values into t, which must have
	// its dtype and shape (the error then wraps ErrShape), chunk by chunk.
	ReadInto(t *Tensor) error
}

// ReadTensor reads the current tensor of r into new storage.
func ReadTensor(r StateReader, info TensorInfo) (*Tensor, error) {
	if info.DType != Float32 && info.DType != Float64 {
		return nil, fmt.Errorf("tensor %q: %w: dtype %v", info.Name, ErrShape, info.DType)
	}
	t := NewTensor(info.DType, info.Shape...)
	if err := r.ReadInto(t); err != nil {
		return nil, err
	}
	return t, nil
}

// SaveStateVia runs s's SaveStateTo into a State whose tensors are copies,
// for a plugin's SaveState: func (p *P) SaveState(ctx context.Context)
// (*sdk.State, error) { return sdk.SaveStateVia(ctx, p) }.
func SaveStateVia(ctx context.Context, s StateSaver) (*State, error) {
	w := &memWriter{st: &State{Tensors: map[string]*Tensor{}}}
	if err := s.SaveStateTo(ctx, w); err != nil {
		return nil, err
	}
	for name, t := range w.st.Tensors {
		w.st.Tensors[name] = t.Clone()
	}
	return w.st, nil
}

// LoadStateVia hands st to l's LoadStateFrom, tensors in the order of their
// names, for a plugin's LoadState.
func LoadStateVia(ctx context.Context, l StateLoader, st *State) error {
	if st == nil {
		return errors.New("load state: nil state")
	}
	return l.LoadStateFrom(ctx, &memReader{st: st, names: slices.Sorted(maps.Keys(st.Tensors)), cur: -1})
}

// memWriter collects a StateSaver's tensors by reference.
type memWriter struct{ st *State }

func (w *memWriter) SetMeta(b []byte) { w.st.Meta = b }

func (w *memWriter) Tensor(name string, t *Tensor) error {
	if _, dup := w.st.Tensors[name]; dup {
		return fmt.Errorf("state tensor %q given twice", name)
	}
	if err := t.Validate(); err != nil {
		return fmt.Errorf("state tensor %q: %w", name, err)
	}
	w.st.Tensors[name] = t
	return nil
}

// memReader reads a State's tensors one at a time.
type memReader struct {
	st    *State
	names []string
	cur   int
}

func (r *memReader) Meta() []byte { return r.st.Meta }

func (r *memReader) Next() (TensorInfo, error) {
	r.cur++
	if r.cur >= len(r.names) {
		r.cur = len(r.names)
		return TensorInfo{}, io.EOF
	}
	t := r.st.Tensors[r.names[r.cur]]
	if t == nil {
		return TensorInfo{}, fmt.Errorf("state tensor %q is nil", r.names[r.cur])
	}
	return TensorInfo{Name: r.names[r.cur], DType: t.DType, Shape: slices.Clone(t.Shape)}, nil
}

func (r *memReader) ReadInto(dst *Tensor) error {
	if r.cur < 0 || r.cur >= len(r.names) {
		return errors.New("read state tensor: no current tensor (call Next)")
	}
	name := r.names[r.cur]
	src := r.st.Tensors[name]
	if err := dst.Expect(src.DType, src.Shape...); err != nil {
		return fmt.Errorf("state tensor %q: %w", name, err)
	}
	if err := src.Validate(); err != nil {
		return fmt.Errorf("state tensor %q: %w", name, err)
	}
	copy(dst.F32, src.F32)
	copy(dst.F64, src.F64)
	return nil
}
