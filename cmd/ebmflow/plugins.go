package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/ebmflow/ebmflow/core/host"
)

type pluginsCommand struct{ ui }

func (c *pluginsCommand) Synopsis() string { return "List the plugins ebmflow can find" }
func (c *pluginsCommand) Help() string {
	return strings.TrimSpace(`
Usage: ebmflow plugins [options] [NAME]

  Lists every ebmflow-plugin-NAME binary found, in the order ebmflow searches:
  next to the ebmflow executable, in plugins/ beside the pipeline (with
  -pipeline), in each folder of $EBMFLOW_PLUGIN_PATH, then on $PATH. Shows
  each plugin's kind, version, protocol, SHA-256 and path.

  With NAME, shows the plugin of that name ebmflow would use and the
  attributes its stage block takes: type, default (or required), the
  allowed range or values, and what each means.

Options:

  -pipeline FILE   also search plugins/ beside FILE
  -json            print JSON instead of a table
`) + "\n"
}

func (c *pluginsCommand) Run(args []string) int {
	fs := flag.NewFlagSet("plugins", flag.ContinueOnError)
	fs.SetOutput(c.err)
	fs.Usage = func() { fmt.Fprint(c.err, c.Help()) }
	pipeline := fs.String("pipeline", "", "")
	asJSON := fs.Bool("json", false, "")
	if err := fs.Parse(args); err != nil || fs.NArg() > 1 {
		if err == nil {
			fs.Usage()
		}
		return exitInvalid
	}
	dir := ""
	if *pipeline != "" {
		dir = filepath.Dir(*pipeline)
	}
	bins := host.List(context.Background(), dir)
	if fs.NArg() == 1 {
		return c.showPlugin(bins, fs.Arg(0), *asJSON)
	}
	if *asJSON {
		type row struct {
			Name     string `json:"name"`
			Kind     string `json:"kind"`
			Version  string `json:"version"`
			Protocol int    `json:"protocol"`
			Path     string `json:"path"`
			SHA256   string `json:"sha256"`
			Error    string `json:"error,omitempty"`
		}
		rows := []row{}
		for _, b := range bins {
			r := row{Name: b.Name, Kind: string(b.Description.Info.Kind), Version: b.Description.Info.Version, Protocol: b.Description.Info.Protocol, Path: b.Path, SHA256: b.SHA256}
			if b.Err != nil {
				r.Error = b.Err.Error()
			}
			rows = append(rows, r)
		}
		enc := json.NewEncoder(c.out)
		enc.SetIndent("", "  ")
		enc.Encode(rows)
		return exitOK
	}
	if len(bins) == 0 {
		fmt.Fprintf(c.err, "no plugins found in %s\n", strings.Join(host.SearchDirs(dir), ", "))
		return exitOK
	}
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tVERSION\tPROTOCOL\tSHA256\tPATH")
	for _, b := range bins {
		if b.Err != nil {
			fmt.Fprintf(tw, "%s\t?\t?\t?\t%s\t%s (%v)\n", b.Name, short(b.SHA256), b.Path, b.Err)
			continue
		}
		i := b.Description.Info
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", b.Name, i.Kind, i.Version, i.Protocol, short(b.SHA256), b.Path)
	}
	tw.Flush()
	return exitOK
}

func short(sum string) string {
	if len(sum) > 16 {
		return sum[:16]
	}
	return sum
}
