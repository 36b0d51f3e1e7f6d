package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/core/pipeline"
)

type initCommand struct{ ui }

func (c *initCommand) Synopsis() string {
	return "Find a pipeline's plugins and pin them in its lock file"
}
func (c *initCommand) Help() string {
	return strings.TrimSpace(`
Usage: ebmflow init [options] PIPELINE

  Finds every plugin the pipeline's stages name and pins each binary's SHA-256
  in ebmflow.lock.hcl beside the pipeline. Later runs refuse a plugin whose
  binary no longer matches its pin.

Options:

  -upgrade   accept changed plugin binaries and re-pin them
`) + "\n"
}

func (c *initCommand) Run(args []string) int {
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	fs.SetOutput(c.err)
	fs.Usage = func() { fmt.Fprint(c.err, c.Help()) }
	upgrade := fs.Bool("upgrade", false, "")
	if err := fs.Parse(args); err != nil {
		return exitInvalid
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitInvalid
	}
	path := fs.Arg(0)
	p, diags := pipeline.Parse(path, pipeline.Options{})
	if p == nil || len(p.Stages) == 0 && diags.HasErrors() {
		fmt.Fprintf(c.err, "Error parsing pipeline: %s\nFor additional help try 'ebmflow init -help'\n", diags.Error())
		return exitInvalid
	}
	res, err := host.NewResolver(context.Background(), filepath.Dir(path), *upgrade)
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitInvalid
	}
	var errs []error
	names := p.PluginNames()
	for _, name := range names {
		_, err := res.Resolve(name, p.PluginSource(name))
		var mismatch *host.ErrLockMismatch
		if errors.As(err, &mismatch) {
			errs = append(errs, err) // it names the plugin
		} else if err != nil {
			errs = append(errs, fmt.Errorf("plugin %q: %w", name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitInvalid
	}
	if err := res.Commit(); err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitInvalid
	}
	for _, name := range names {
		b := res.Binary(name)
		fmt.Fprintf(c.out, "%s %s (%s) sha256:%s\n", b.Name, b.Description.Info.Version, b.Path, b.SHA256)
	}
	lockPath := res.LockPath
	fmt.Fprintf(c.out, "pinned %d plugins in %s\n", len(names), lockPath)
	return exitOK
}
