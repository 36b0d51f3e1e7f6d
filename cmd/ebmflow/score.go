package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/core/runner"
	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/ebmflow/ebmflow/sdk/safetensors"
)

type scoreCommand struct{ ui }

func (c *scoreCommand) Synopsis() string {
	return "Evaluate a trained energy on inputs (anomaly scores)"
}
func (c *scoreCommand) Help() string {
	return strings.TrimSpace(`
Usage: ebmflow score -pipeline FILE -checkpoint CKPT -input FILE -out FILE [options]

  Starts the pipeline's energy stage alone, loads its weights and evaluates
  F(x) (and with -grad, dF/dx) for every input.

  CKPT is a run folder (its last checkpoint), a checkpoint folder
  (RUNDIR/checkpoints/NNNNNNNNN) or a bare safetensors file of weights named
  as the energy plugin names them (for energy-convnet, PyTorch's state_dict
  names: f.0.weight, ...).

  -input is a safetensors file (tensor "x", or its only tensor, shaped
  [n, ...] like the energy's input), an IDX image file (raw or gzipped, pixels
  scaled to [-1, 1]) or a PNG image (grey or RGB, scaled to [-1, 1]); images
  whose size differs from the energy's input are resized bilinearly.

  -out ending in .csv writes index,energy (and grad_norm with -grad); any
  other name writes safetensors with "energy" [n] (and "dfdx").

Options:

`+varFlagsHelp+`
  -stage NAME       the energy stage (default: train.energy)
  -grad             also compute dF/dx
  -batch N          inputs per call (default 100)
`) + "\n"
}

func (c *scoreCommand) Run(args []string) int {
	fs := flag.NewFlagSet("score", flag.ContinueOnError)
	fs.SetOutput(c.err)
	fs.Usage = func() { fmt.Fprint(c.err, c.Help()) }
	vars := addVarFlags(fs)
	pipe := fs.String("pipeline", "", "")
	ckpt := fs.String("checkpoint", "", "")
	input := fs.String("input", "", "")
	out := fs.String("out", "", "")
	stageName := fs.String("stage", "", "")
	grad := fs.Bool("grad", false, "")
	batch := fs.Int("batch", 100, "")
	if err := fs.Parse(args); err != nil {
		return exitInvalid
	}
	if fs.NArg() != 0 || *pipe == "" || *ckpt == "" || *input == "" || *out == "" || *batch <= 0 {
		fs.Usage()
		return exitInvalid
	}
	ctx := context.Background()
	p, res, diags := runner.Load(ctx, *pipe, runner.LoadOptions{Options: vars.options()})
	if diags.HasErrors() {
		writeDiags(c.err, files(p), diags)
		fmt.Fprintf(c.err, "Error parsing pipeline\nFor additional help try 'ebmflow score -help'\n")
		return exitInvalid
	}
	name := *stageName
	if name == "" {
		name = p.Train.Energy
	}
	s := p.Stage(name)
	if s == nil || s.Kind != sdk.KindEnergy || len(s.Refs) > 0 {
		fmt.Fprintf(c.err, "Error: stage %q is not an energy stage that can run alone\n", name)
		return exitInvalid
	}
	state, err := loadWeights(*ckpt, name)
	if err != nil {
		fmt.Fprintf(c.err, "Error: checkpoint: %v\n", err)
		return exitInvalid
	}
	log, _ := newLogger(c.err, "auto", "warn")
	h := host.New(host.Options{Logger: log})
	defer h.Close()
	proc, err := h.Start(ctx, name, res.Binary(s.Plugin))
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	shapes, pd, err := proc.Configure(ctx, rpc.ConfigureArgs{Stage: name, Seed: runner.StageSeed(p.Train.Seed, name), Values: s.Values})
	if err == nil {
		err = pd.Err()
	}
	if err == nil {
		err = proc.LoadState(ctx, state)
	}
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	x, err := readInput(*input, shapes["input"])
	if err != nil {
		fmt.Fprintf(c.err, "Error: input %s: %v\n", *input, err)
		return exitInvalid
	}
	f, g, err := scoreAll(ctx, proc, x, *batch, *grad)
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	if err := writeScores(*out, f, g); err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(c.out, "scored %d inputs into %s\n", f.Len(), *out)
	return exitOK
}

// loadWeights reads the stage's state from a run folder, a checkpoint
// folder or a bare safetensors file.
func loadWeights(path, stage string) (*sdk.State, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		tensors, _, err := safetensors.ReadFile(path)
		if err != nil {
			return nil, err
		}
		return &sdk.State{Tensors: tensors}, nil
	}
	dir := path
	if _, err := os.Stat(filepath.Join(path, "core.json")); err != nil {
		if dir, err = runner.LastCheckpoint(path); err != nil {
			return nil, err
		}
	}
	return runner.CheckpointStage(dir, stage)
}

// scoreAll evaluates F (and dF/dx) batch by batch.
func scoreAll(ctx context.Context, proc *host.Process, x *sdk.Tensor, batch int, grad bool) (*sdk.Tensor, *sdk.Tensor, error) {
	n, per := x.Batch(), x.Len()/max(x.Batch(), 1)
	f := sdk.NewTensor(sdk.Float64, n)
	var g *sdk.Tensor
	if grad {
		g = sdk.NewTensor(x.DType, x.Shape...)
	}
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		part := slice(x, lo, hi, per)
		var fe, ge *sdk.Tensor
		var err error
		if grad {
			fe, ge, err = proc.Grad(ctx, part)
		} else {
			fe, err = proc.Energy(ctx, part)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("inputs %d to %d: %w", lo, hi-1, err)
		}
		for i := 0; i < hi-lo; i++ {
			f.F64[lo+i] = fe.At(i)
		}
		if grad {
			for i := 0; i < ge.Len(); i++ {
				g.Set(lo*per+i, ge.At(i))
			}
		}
	}
	return f, g, nil
}

func slice(x *sdk.Tensor, lo, hi, per int) *sdk.Tensor {
	shape := append([]int{hi - lo}, x.Shape[1:]...)
	if x.DType == sdk.Float64 {
		return sdk.FromFloat64(x.F64[lo*per:hi*per], shape...)
	}
	return sdk.FromFloat32(x.F32[lo*per:hi*per], shape...)
}

func writeScores(path string, f, g *sdk.Tensor) error {
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		file, err := os.Create(path)
		if err != nil {
			return err
		}
		w := csv.NewWriter(file)
		head := []string{"index", "energy"}
		if g != nil {
			head = append(head, "grad_norm")
		}
		w.Write(head)
		per := 0
		if g != nil {
			per = g.Len() / max(f.Len(), 1)
		}
		for i := 0; i < f.Len(); i++ {
			row := []string{strconv.Itoa(i), strconv.FormatFloat(f.F64[i], 'g', -1, 64)}
			if g != nil {
				s := 0.0
				for j := 0; j < per; j++ {
					v := g.At(i*per + j)
					s += v * v
				}
				row = append(row, strconv.FormatFloat(math.Sqrt(s), 'g', -1, 64))
			}
			w.Write(row)
		}
		w.Flush()
		if err := w.Error(); err != nil {
			file.Close()
			return err
		}
		return file.Close()
	}
	tensors := map[string]*sdk.Tensor{"energy": f}
	if g != nil {
		tensors["dfdx"] = g
	}
	return safetensors.WriteFile(path, tensors, nil)
}
