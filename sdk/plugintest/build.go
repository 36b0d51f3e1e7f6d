package plugintest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/sdk"
)

// Built is a plugin binary built by Build.
type Built struct {
	// Name is the plugin's name; the binary is ebmflow-plugin-NAME.
	Name string
	// Path is the binary's path and SHA256 its hex SHA-256.
	Path, SHA256 string
	// Info and Schema are what `ebmflow-plugin-NAME describe` printed.
	Info   sdk.Info
	Schema sdk.Schema

	bin host.Binary
}

// Build compiles the main package pkg (a path as `go build` takes it: "."
// for the package of the calling test, "./cmd/ebmflow-plugin-x" or an import
// path) into a temporary folder that the test removes, as
// ebmflow-plugin-NAME where NAME is the name the plugin gives in its Info.
// It runs `go build` in the calling test's folder, so the test's module
// (and its replace directives) decide which ebmflow sdk the plugin links.
func Build(t testing.TB, pkg string) Built {
	t.Helper()
	b, err := build(t.TempDir(), pkg, "")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// build compiles pkg into dir. With name set, the binary is called
// ebmflow-plugin-name whatever the plugin says (the test kit serves the kind
// its file name asks for); otherwise it is named after the plugin's Info.
func build(dir, pkg, name string) (Built, error) {
	if b, ok, err := prebuilt(dir, pkg, name); ok { // Executable(path): no build
		return b, err
	}
	tmp := filepath.Join(dir, "plugintest-build")
	if name != "" {
		tmp = filepath.Join(dir, host.BinaryPrefix+name)
	}
	cmd := exec.Command("go", "build", "-o", tmp, pkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		return Built{}, fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	d, err := host.DescribeBinary(context.Background(), tmp)
	if err != nil {
		return Built{}, fmt.Errorf("built %s, but %w", pkg, err)
	}
	path := tmp
	if name == "" {
		name = d.Info.Name
		if name == "" || strings.ContainsAny(name, `/\ `) {
			return Built{}, fmt.Errorf("built %s: its Info gives the name %q, which cannot name a binary ebmflow-plugin-NAME", pkg, name)
		}
		path = filepath.Join(dir, host.BinaryPrefix+name)
		if err := os.Rename(tmp, path); err != nil {
			return Built{}, err
		}
	}
	sum, err := host.FileSHA256(path)
	if err != nil {
		return Built{}, err
	}
	b := host.Binary{Name: name, Path: path, SHA256: sum, Description: d}
	return Built{Name: name, Path: path, SHA256: sum, Info: d.Info, Schema: d.Schema, bin: b}, nil
}
