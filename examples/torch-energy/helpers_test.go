// Package torchenergy_test checks the torch-energy example plugin through
// real processes: the conformance harness, agreement with energy-convnet,
// a pipeline with sampler-langevin, and the GPU where there is one.
package torchenergy_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// binDir holds ebmflow and the built-in plugins, built once by TestMain.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "torch-energy-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	cmd := exec.Command("go", "build", "-o", dir+"/", "../../cmd/ebmflow", "../../plugins/...")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// builtin returns the path of a built-in plugin's binary.
func builtin(name string) string { return filepath.Join(binDir, "ebmflow-plugin-"+name) }

// entry is the plugin's executable, run in place.
const entry = "ebmflow-plugin-torch-energy"

// python is the interpreter the entry script names.
const python = "/usr/bin/python3"

// needTorch skips the test, saying why, when the interpreter lacks what the
// plugin imports.
func needTorch(t testing.TB) {
	t.Helper()
	out, err := exec.Command(python, "-c", "import torch, grpc, google.protobuf").CombinedOutput()
	if err != nil {
		t.Skipf("%s cannot import torch, grpc and protobuf (apt-get install python3-torch python3-grpcio python3-protobuf): %v\n%s", python, err, out)
	}
}
