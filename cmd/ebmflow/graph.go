package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/ebmflow/ebmflow/core/runner"
)

type graphCommand struct{ ui }

func (c *graphCommand) Synopsis() string { return "Print a pipeline's stage graph (DOT or Mermaid)" }
func (c *graphCommand) Help() string {
	return strings.TrimSpace(`
Usage: ebmflow graph [options] PIPELINE

  Prints the stage graph: a node per stage (with its plugin and kind) and the
  train block, an edge per reference. DOT by default (pipe it to 'dot -Tpng'),
  or Mermaid.

Options:

`+varFlagsHelp+`
  -format FORMAT    dot (default) or mermaid
`) + "\n"
}

func (c *graphCommand) Run(args []string) int {
	fs := flag.NewFlagSet("graph", flag.ContinueOnError)
	fs.SetOutput(c.err)
	fs.Usage = func() { fmt.Fprint(c.err, c.Help()) }
	vars := addVarFlags(fs)
	format := fs.String("format", "dot", "")
	if err := fs.Parse(args); err != nil {
		return exitInvalid
	}
	if fs.NArg() != 1 || (*format != "dot" && *format != "mermaid") {
		fs.Usage()
		return exitInvalid
	}
	p, _, diags := runner.Load(context.Background(), fs.Arg(0), runner.LoadOptions{Options: vars.options()})
	if diags.HasErrors() {
		writeDiags(c.err, files(p), diags)
		fmt.Fprintf(c.err, "For additional help try 'ebmflow graph -help'\n")
		return exitInvalid
	}
	if *format == "mermaid" {
		fmt.Fprint(c.out, p.Mermaid())
	} else {
		fmt.Fprint(c.out, p.DOT())
	}
	return exitOK
}
