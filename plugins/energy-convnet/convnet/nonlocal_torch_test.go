package convnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

// torchPython is the interpreter with PyTorch (Debian's python3-torch).
const torchPython = "/usr/bin/python3"

// jsonTensor is a tensor in the cross-check's JSON request.
type jsonTensor struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

func toJSON(x *sdk.Tensor) jsonTensor {
	d := make([]float64, x.Len())
	for i := range d {
		d[i] = x.At(i)
	}
	return jsonTensor{Shape: x.Shape, Data: d}
}

// torchAnswer is testdata/nonlocal_torch.py's response.
type torchAnswer struct {
	F     []float64            `json:"f"`
	DFDX  []float64            `json:"dfdx"`
	Grads map[string][]float64 `json:"grads"`
	Names []string             `json:"names"`
}

// TestNonlocalMatchesTorch loads random weights, W included, under the
// reference's state_dict names (as `ebmflow score` does with a bare
// safetensors file) and compares F, dF/dx and the weight gradients with a
// PyTorch definition of the same net (testdata/nonlocal_torch.py), which
// loads the same names with strict=True.
func TestNonlocalMatchesTorch(t *testing.T) {
	type check struct {
		a        attrs
		tol      float64
		p        *Plugin
		pos, neg *sdk.Tensor
		x        *sdk.Tensor
		req      map[string]any
	}
	var cs []*check
	for _, tc := range []struct {
		dtype    string
		channels int
		tol      float64
	}{{"float64", 1, 1e-10}, {"float64", 3, 1e-10}, {"float32", 1, 2e-4}} {
		c := &check{a: smallNonlocal(tc.dtype), tol: tc.tol}
		c.a["channels"] = tc.channels
		c.p = configured(t, 5, c.a)
		st := randomWeights(c.p, 9)
		if err := c.p.LoadState(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		c.pos, c.neg = randomBatch(c.p, 3, 21), randomBatch(c.p, 2, 22)
		c.x = sdk.NewTensor(c.p.dt, append([]int{5}, c.p.arch.Input...)...)
		for i := 0; i < c.pos.Len(); i++ {
			c.x.Set(i, c.pos.At(i))
		}
		for i := 0; i < c.neg.Len(); i++ {
			c.x.Set(c.pos.Len()+i, c.neg.At(i))
		}
		ws := map[string]jsonTensor{}
		for k, v := range st.Tensors {
			ws[k] = toJSON(v)
		}
		c.req = map[string]any{"dtype": tc.dtype, "channels": tc.channels, "n_f": c.a["n_f"], "slope": 0.05,
			"x": toJSON(c.x), "coef": []float64{1. / 3, 1. / 3, 1. / 3, -0.5, -0.5}, "weights": ws}
		cs = append(cs, c)
	}
	var reqs []map[string]any
	for _, c := range cs {
		reqs = append(reqs, c.req)
	}
	answers := runTorch(t, reqs)
	for k, c := range cs {
		ans, p := answers[k], c.p
		t.Run(name(c.a), func(t *testing.T) {
			var names []string
			for _, q := range p.params {
				names = append(names, q.Name)
			}
			if !slices.Equal(names, ans.Names) {
				t.Errorf("parameter names\n got %q\nwant %q (PyTorch's state_dict order)", names, ans.Names)
			}
			f, g, err := p.Grad(context.Background(), c.x)
			if err != nil {
				t.Fatal(err)
			}
			if e := relErr(floats(f), ans.F); e > c.tol {
				t.Errorf("F: relative error %g against PyTorch (tolerance %g)", e, c.tol)
			}
			e := relErr(floats(g), ans.DFDX)
			t.Logf("dF/dx: relative error %.2g against PyTorch", e)
			if e > c.tol {
				t.Errorf("dF/dx: relative error %g against PyTorch (tolerance %g)", e, c.tol)
			}
			p.mu.Lock()
			_, grads, err := p.lossGrad(c.pos, c.neg)
			p.mu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
			for i, q := range p.params {
				want := ans.Grads[q.Name]
				if zeroGrad(q.Name) { // 0 but for rounding: compare absolutely
					if e := maxAbs(values(grads[i])); e > c.tol || maxAbs(want) > c.tol {
						t.Errorf("%s: gradient up to %g, PyTorch's up to %g, want 0", q.Name, e, maxAbs(want))
					}
					continue
				}
				if e := relErr(values(grads[i]), want); e > c.tol {
					t.Errorf("%s: weight gradient relative error %g against PyTorch (tolerance %g)", q.Name, e, c.tol)
				}
			}
		})
	}
}

// runTorch sends the requests to testdata/nonlocal_torch.py, in one run,
// and returns its answers.
func runTorch(t *testing.T, reqs []map[string]any) []torchAnswer {
	t.Helper()
	dir := t.TempDir()
	args := []string{filepath.Join("testdata", "nonlocal_torch.py")}
	for k, req := range reqs {
		in, out := filepath.Join(dir, fmt.Sprintf("req%d.json", k)), filepath.Join(dir, fmt.Sprintf("resp%d.json", k))
		b, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(in, b, 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, in, out)
	}
	msg, err := exec.Command(torchPython, args...).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() == 3:
		t.Skipf("skipping the PyTorch cross-check: %s cannot import torch (%s); install python3-torch", torchPython, strings.TrimSpace(string(msg)))
	case errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist):
		t.Skipf("skipping the PyTorch cross-check: no %s (%v)", torchPython, err)
	case err != nil:
		t.Fatalf("nonlocal_torch.py: %v\n%s", err, msg)
	}
	var answers []torchAnswer
	for k := range reqs {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("resp%d.json", k)))
		if err != nil {
			t.Fatal(err)
		}
		var ans torchAnswer
		if err := json.Unmarshal(b, &ans); err != nil {
			t.Fatal(err)
		}
		answers = append(answers, ans)
	}
	return answers
}

// floats returns the values of x as float64.
func floats(x *sdk.Tensor) []float64 {
	d := make([]float64, x.Len())
	for i := range d {
		d[i] = x.At(i)
	}
	return d
}

// zeroGrad says whether the parameter's gradient is exactly zero in exact
// arithmetic: fc.2.bias shifts F(x+) and F(x-) alike, and a phi bias adds
// theta[r] . b to every score of row r, which the softmax ignores.
func zeroGrad(name string) bool {
	return name == "fc.2.bias" || strings.HasSuffix(name, ".phi.0.bias")
}

// maxAbs returns the largest |v|.
func maxAbs(v []float64) float64 {
	var m float64
	for _, x := range v {
		m = max(m, math.Abs(x))
	}
	return m
}
