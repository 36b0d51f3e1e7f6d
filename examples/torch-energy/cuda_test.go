package torchenergy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/ebmflow/ebmflow/sdk/plugintest"
	"github.com/rs/zerolog"
)

// cudaAvailable reports whether PyTorch sees a CUDA device, and why not.
func cudaAvailable(t *testing.T) (bool, string) {
	out, err := exec.Command(python, "-c", "import torch; print(torch.cuda.is_available(), torch.version.cuda, torch.__version__)").CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", python, err, out)
	}
	f := strings.Fields(string(out))
	if len(f) != 3 {
		t.Fatalf("%s: unexpected answer %q", python, out)
	}
	switch {
	case f[0] == "True":
		return true, "PyTorch " + f[2] + " with CUDA " + f[1] + " finds a CUDA device"
	case f[1] == "None":
		return false, "PyTorch " + f[2] + " (" + python + ") is built without CUDA"
	}
	return false, "PyTorch " + f[2] + " is built with CUDA " + f[1] + " but finds no CUDA device (torch.cuda.is_available() is False)"
}

// TestCUDA runs the VanillaNet on the GPU and checks F and dF/dx against
// energy-convnet on the CPU. Without a CUDA device it checks instead that
// device = "cuda" is refused at configure, naming the attribute, and skips
// the GPU part saying why.
func TestCUDA(t *testing.T) {
	needTorch(t)
	cfg := map[string]any{"net": "vanilla", "channels": 3, "image_size": 32, "n_f": 8, "epsilon": 0.01, "device": "cuda"}
	ok, why := cudaAvailable(t)
	if !ok {
		// The refusal is a real check here: a configure error at [device].
		script := `import sys, os; sys.path[:0] = [".", "../../sdk/python"]
from ebmflow_plugin import build_config
from torch_energy.plugin import TorchEnergy
p = TorchEnergy()
cfg, d = build_config(p.schema, "e", 1, "", '{"net": "toy", "epsilon": 0.1, "device": "cuda"}', {})
p.configure(cfg, d)
print([x["path"] for x in d if x["severity"] == "error"], [x["detail"] for x in d])`
		out, err := exec.Command(python, "-c", script).CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "[['device']]") {
			t.Fatalf("device = \"cuda\" without a GPU: want one error at [device], got %v\n%s", err, out)
		}
		t.Skipf("no GPU to test: %s. Checked instead: device = \"cuda\" is refused at configure, naming the attribute; the GPU comparison did not run", why)
	}
	gop := plugintest.Start(t, plugintest.Suite{Package: plugintest.Executable(builtin("energy-convnet")), Kind: sdk.KindEnergy, Config: cfg, Seed: 99})
	py := plugintest.Start(t, plugintest.Suite{Package: plugintest.Executable(entry), Kind: sdk.KindEnergy, Config: cfg, Seed: 99})
	compare(t, "cuda", gop, py, batch("x", sdk.Float32, 100, gop.Shapes["input"]))
	if _, err := py.Update(context.Background(), sdk.UpdateRequest{Pos: batch("p", sdk.Float32, 100, gop.Shapes["input"]), Neg: batch("n", sdk.Float32, 100, gop.Shapes["input"]), LR: 1e-3, T: 1}); err != nil {
		t.Fatal(err)
	}
}

// TestAutoDevice: device = "auto" says in the log where it computes. Without
// a CUDA device that is the CPU, and its F and dF/dx are bit for bit those
// of device = "cpu"; with one, the GPU comparison is TestCUDA's.
func TestAutoDevice(t *testing.T) {
	needTorch(t)
	ok, why := cudaAvailable(t)
	want := "cpu"
	if ok {
		want = "cuda"
	}
	var log bytes.Buffer
	var mu sync.Mutex
	h := host.New(host.Options{Logger: zerolog.New(lockedWriter{&mu, &log})})
	t.Cleanup(h.Close)
	ctx := context.Background()
	abs, err := filepath.Abs(entry)
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.Start(ctx, "energy", host.Binary{Name: "torch-energy", Path: abs})
	if err != nil {
		t.Fatal(err)
	}
	cfg := map[string]json.RawMessage{"net": json.RawMessage(`"toy"`), "epsilon": json.RawMessage("0.125"), "device": json.RawMessage(`"auto"`)}
	if _, diags, err := p.Configure(ctx, rpc.ConfigureArgs{Stage: "energy", Seed: 99, Values: cfg}); err != nil || diags.HasErrors() {
		t.Fatal(err, diags)
	}
	mu.Lock()
	lines := log.String()
	mu.Unlock()
	var said bool
	for _, line := range strings.Split(lines, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && strings.HasPrefix(fmt.Sprint(m["message"]), `device = "auto"`) {
			said = true
			if m["device"] != want || m["level"] != "info" {
				t.Errorf("auto resolved to %v at level %v, want %s at info (%s): %s", m["device"], m["level"], want, why, line)
			}
		}
	}
	if !said {
		t.Fatalf("no log line on the device auto resolved to; host log:\n%s", lines)
	}
	if ok {
		t.Skip("auto resolved to the CUDA device: TestCUDA compares the GPU's numbers")
	}
	cpu := plugintest.Start(t, plugintest.Suite{Package: plugintest.Executable(entry), Kind: sdk.KindEnergy,
		Config: map[string]any{"net": "toy", "epsilon": 0.125, "device": "cpu"}, Seed: 99})
	x := batch("auto", sdk.Float32, 100, []int{2})
	fa, ga, err := p.Grad(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	fc, gc, err := cpu.Grad(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what       string
		auto, want *sdk.Tensor
	}{{"F", fa, fc}, {"dF/dx", ga, gc}} {
		for i := range c.want.Len() {
			if math.Float64bits(c.auto.At(i)) != math.Float64bits(c.want.At(i)) {
				t.Fatalf("%s element %d: %v with device auto, %v with cpu", c.what, i, c.auto.At(i), c.want.At(i))
			}
		}
	}
}

// lockedWriter serialises writes to a buffer that the test reads.
type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
