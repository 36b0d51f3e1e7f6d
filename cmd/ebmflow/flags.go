package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ebmflow/ebmflow/core/pipeline"
	"github.com/hashicorp/hcl/v2"
	"golang.org/x/term"
)

// varFlags collects -var NAME=VALUE and -var-file FILE.
type varFlags struct {
	vars  map[string]string
	files []string
}

type varSetter struct{ v *varFlags }

func (s varSetter) String() string { return "" }
func (s varSetter) Set(kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	if !ok || k == "" {
		return fmt.Errorf("-var wants NAME=VALUE, got %q", kv)
	}
	s.v.vars[k] = v
	return nil
}

type fileSetter struct{ v *varFlags }

func (s fileSetter) String() string     { return "" }
func (s fileSetter) Set(f string) error { s.v.files = append(s.v.files, f); return nil }

func addVarFlags(fs *flag.FlagSet) *varFlags {
	v := &varFlags{vars: map[string]string{}}
	fs.Var(varSetter{v}, "var", "")
	fs.Var(fileSetter{v}, "var-file", "")
	return v
}

func (v *varFlags) options() pipeline.Options {
	return pipeline.Options{Vars: v.vars, VarFiles: v.files}
}

const varFlagsHelp = `  -var NAME=VALUE   set a pipeline variable (repeatable); also EBMFLOW_VAR_NAME
  -var-file FILE    read variables from an HCL file of NAME = VALUE lines (repeatable)`

// writeDiags renders diagnostics with file:line:column and source snippets.
func writeDiags(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics) {
	width := uint(100)
	color := false
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		color = true
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 20 {
			width = uint(cols)
		}
	}
	hcl.NewDiagnosticTextWriter(w, files, width, color).WriteDiagnostics(diags)
}

// files returns the parsed files of p for diagnostics' snippets (none when
// the pipeline could not be read).
func files(p *pipeline.Pipeline) map[string]*hcl.File {
	if p == nil {
		return nil
	}
	return p.Files
}

func countErrors(diags hcl.Diagnostics) int {
	n := 0
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			n++
		}
	}
	return n
}
