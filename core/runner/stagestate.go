package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/ebmflow/ebmflow/sdk/safetensors"
)

// A stage's state goes between its plugin and the checkpoint's files one
// chunk at a time (issue 22): the host never holds a stage's tensors.

// fileSink writes the tensors of a SaveState answer into a safetensors
// file as they arrive.
type fileSink struct{ w *safetensors.FileWriter }

func (s fileSink) Begin(h wire.Header) error { return s.w.Begin(h.Name, h.DType, h.IntShape()) }

func (s fileSink) Write(p []byte) (int, error) { return s.w.Write(p) }

// saveStage writes the state of proc's stage into dir as STAGE.safetensors
// and STAGE.state, each synced.
func saveStage(ctx context.Context, proc *host.Process, dir, stage, plugin string) error {
	fw, err := safetensors.Create(filepath.Join(dir, stage+".safetensors"), map[string]string{"stage": stage, "plugin": plugin})
	if err != nil {
		return err
	}
	meta, err := proc.SaveStateTo(ctx, fileSink{fw})
	if err != nil {
		fw.Abort()
		return err
	}
	if err := fw.Commit(); err != nil {
		return fmt.Errorf("checkpoint stage %q: %w", stage, err)
	}
	return sdk.WriteFileAtomic(filepath.Join(dir, stage+".state"), meta, 0o644)
}

// openStage opens a stage's saved state in a checkpoint folder: its blob,
// and its tensors file with the header checked (a truncated or malformed
// file is refused here, before the plugin sees any of it).
func openStage(dir, stage string) (*safetensors.File, []byte, error) {
	f, err := safetensors.Open(filepath.Join(dir, stage+".safetensors"))
	if err != nil {
		return nil, nil, err
	}
	meta, err := os.ReadFile(filepath.Join(dir, stage+".state"))
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, meta, nil
}

// loadStage sends an opened state to proc, its tensors read from the file
// as they are sent.
func loadStage(ctx context.Context, proc *host.Process, f *safetensors.File, meta []byte) error {
	ts := make([]wire.Named, len(f.Entries))
	for i, e := range f.Entries {
		ts[i] = wire.Named{Name: e.Name, Source: &wire.Source{DType: e.DType, Shape: e.Shape, R: f.Reader(e)}}
	}
	return proc.LoadStateFrom(ctx, meta, ts)
}
