package torchenergy_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
	"github.com/ebmflow/ebmflow/sdk/plugintest"
)

// cudaAvailable reports whether PyTorch sees a CUDA device, and why not.
func cudaAvailable(t *testing.T) (bool, string) {
	out, err := exec.Command(python, "-c", "import torch; print(torch.cuda.is_available(), torch.version.cuda)").CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", python, err, out)
	}
	s := strings.TrimSpace(string(out))
	return strings.HasPrefix(s, "True"), s
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
		t.Skipf("no CUDA device for PyTorch here (torch.cuda.is_available(), torch.version.cuda: %s): device = \"cuda\" refused at configure as it should be; the GPU comparison did not run", why)
	}
	gop := plugintest.Start(t, plugintest.Suite{Package: plugintest.Executable(builtin("energy-convnet")), Kind: sdk.KindEnergy, Config: cfg, Seed: 99})
	py := plugintest.Start(t, plugintest.Suite{Package: plugintest.Executable(entry), Kind: sdk.KindEnergy, Config: cfg, Seed: 99})
	compare(t, "cuda", gop, py, batch("x", sdk.Float32, 100, gop.Shapes["input"]))
	if _, err := py.Update(context.Background(), sdk.UpdateRequest{Pos: batch("p", sdk.Float32, 100, gop.Shapes["input"]), Neg: batch("n", sdk.Float32, 100, gop.Shapes["input"]), LR: 1e-3, T: 1}); err != nil {
		t.Fatal(err)
	}
}
