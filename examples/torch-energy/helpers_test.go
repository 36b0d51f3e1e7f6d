// Package torchenergy_test checks the torch-energy example plugin through
// real processes: the conformance harness, agreement with energy-convnet,
// a pipeline with sampler-langevin, and the GPU where there is one.
package torchenergy_test

import (
	"os/exec"
	"testing"
)

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
