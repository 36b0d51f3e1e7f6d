package main

import (
	"os"
	"testing"
)

// TestAssemblyIsGenerated checks that ind_amd64.s is what this generator
// writes: edit the generator and run go generate, not the assembly.
func TestAssemblyIsGenerated(t *testing.T) {
	have, err := os.ReadFile("../../ind_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	if string(have) != Generate() {
		t.Fatal("ind_amd64.s differs from what internal/asmgen writes; run go generate in plugins/energy-convnet/convnet")
	}
}
