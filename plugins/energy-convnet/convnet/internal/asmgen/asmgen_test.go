package asmgen

import (
	"os"
	"testing"
)

// TestAssemblyIsGenerated checks that ind_amd64.s and kernel_amd64.s are
// what this generator writes: edit the generator and run go generate, not
// the assembly.
func TestAssemblyIsGenerated(t *testing.T) {
	for name, gen := range Files {
		have, err := os.ReadFile("../../" + name)
		if err != nil {
			t.Fatal(err)
		}
		if string(have) != gen() {
			t.Errorf("%s differs from what internal/asmgen writes; run go generate in plugins/energy-convnet/convnet", name)
		}
	}
}
