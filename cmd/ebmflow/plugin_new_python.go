package main

import (
	"bytes"
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"text/template"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/sdk"
)

//go:embed templates/python/*.tmpl
var pythonTemplates embed.FS

// pythonScaffold is what the Python templates see.
type pythonScaffold struct {
	Name, Kind, Summary, HCL string
	// Python is the interpreter on the executable's first line.
	Python string
	// PythonCmd runs that interpreter from a shell.
	PythonCmd string
	// SDK is the checkout's sdk/python, the fallback when the SDK is not
	// installed ("" without a checkout).
	SDK string
}

// newPython writes a Python plugin of kind into dir: the executable
// ebmflow-plugin-NAME, plugin.py, test_plugin.py and README.md.
func (c *pluginCommand) newPython(kind sdk.Kind, name, dir, checkout, python string) int {
	kf := kindFiles[kind]
	data := pythonScaffold{Name: name, Kind: string(kind), Summary: kf.summary, HCL: replaceName(kf.hcl, name),
		Python: python, PythonCmd: python}
	if python == "/usr/bin/env python3" {
		data.PythonCmd = "python3"
	}
	if checkout != "" {
		abs, err := filepath.Abs(filepath.Join(checkout, "sdk", "python"))
		if err != nil {
			fmt.Fprintf(c.err, "Error: %v\n", err)
			return exitInvalid
		}
		data.SDK = abs
	}
	files := []struct {
		out, tmpl string
		mode      os.FileMode
	}{
		{host.BinaryPrefix + name, "entry.tmpl", 0o755},
		{"plugin.py", string(kind) + ".py.tmpl", 0o644},
		{"test_plugin.py", string(kind) + "_test.py.tmpl", 0o644},
		{"README.md", "README.md.tmpl", 0o644},
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	for _, f := range files {
		t, err := template.New(f.tmpl).Delims("[[", "]]").ParseFS(pythonTemplates, "templates/python/"+f.tmpl, "templates/python/testhead.tmpl")
		if err != nil {
			fmt.Fprintf(c.err, "Error: %s: %v\n", f.out, err)
			return exitFailed
		}
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			fmt.Fprintf(c.err, "Error: %s: %v\n", f.out, err)
			return exitFailed
		}
		if err := os.WriteFile(filepath.Join(dir, f.out), b.Bytes(), f.mode); err != nil {
			fmt.Fprintf(c.err, "Error: %v\n", err)
			return exitFailed
		}
	}
	fmt.Fprintf(c.out, "Created Python %s plugin %q in %s\n", kind, name, dir)
	if data.SDK != "" {
		fmt.Fprintf(c.out, "Without an installed ebmflow_plugin it uses the SDK of the checkout %s\n", data.SDK)
	}
	fmt.Fprintf(c.out, "Next:\n  cd %s\n  %s -m unittest test_plugin -v   # unit tests\n  EBMFLOW_PLUGIN_PATH=$PWD ebmflow plugins\n", dir, data.PythonCmd)
	return exitOK
}

// replaceName puts the plugin's name into a kind's HCL example.
func replaceName(hcl, name string) string {
	return string(bytes.ReplaceAll([]byte(hcl), []byte("NAME"), []byte(name)))
}
