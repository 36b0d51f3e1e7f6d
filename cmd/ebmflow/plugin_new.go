package main

import (
	"bufio"
	"bytes"
	"embed"
	"flag"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/sdk"
)

//go:embed templates/*.tmpl
var pluginTemplates embed.FS

// ebmflowModule is the module path plugins require.
const ebmflowModule = "github.com/ebmflow/ebmflow"

type pluginCommand struct{ ui }

func (c *pluginCommand) Synopsis() string { return "Create a new plugin: plugin new KIND NAME" }
func (c *pluginCommand) Help() string {
	return strings.TrimSpace(`
Usage: ebmflow plugin new [options] KIND NAME

  Writes a new plugin of KIND (energy, sampler, data or diagnostics) as a
  standalone Go module in DIR (default ./NAME): go.mod, main.go, plugin.go
  (a small but working implementation of the kind), plugin_test.go (unit
  tests and ebmflow's conformance harness, sdk/plugintest) and README.md.

  go.mod requires github.com/ebmflow/ebmflow. When ebmflow runs from a
  checkout of its repository (or -ebmflow names one), go.mod replaces the
  module with that checkout; otherwise it requires the latest release. Then
  'go mod tidy' fills in go.sum (skip with -no-tidy).

  In DIR, 'go test ./...' passes and 'go build' writes ebmflow-plugin-NAME,
  which 'ebmflow plugins' finds in EBMFLOW_PLUGIN_PATH, next to ebmflow, in
  plugins/ beside a pipeline or on PATH. NAME is what a stage block's
  'plugin' attribute names. docs/plugins.md in the repository is the guide.

Options:

  -dir DIR         where to write the module (default ./NAME); must not
                   exist or be empty
  -ebmflow DIR     the ebmflow checkout to build against (default: found
                   from the current folder or the ebmflow executable)
  -no-tidy         do not run 'go mod tidy'
  -lang LANG       go (default) or python: a Python plugin (an executable
                   script, plugin.py and its unit tests) on ebmflow's Python
                   SDK; see docs/plugins-python.md
  -python PATH     the interpreter a Python plugin names on its first line
                   (default "/usr/bin/env python3")
`) + "\n"
}

var pluginNameRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// kindFiles describes what each kind's scaffold says about itself.
var kindFiles = map[sdk.Kind]struct{ serve, summary, hcl string }{
	sdk.KindEnergy: {"energy", "It is a quadratic energy F(x) = (a/2)|x - mu|^2 whose centre mu is learned by\nSGD on mean F(x+) - mean F(x-): simple, but a real energy stage to replace\nwith your own.", `stage "energy" {
  plugin  = "NAME"
  a       = 1      # curvature (default 1)
  dim     = 2      # sample dimension; input shape [dim] (default 2)
  epsilon = 0.1    # the sampler's Langevin noise, for d_st (required)
}`},
	sdk.KindSampler: {"sampler", "It is a Langevin sampler x <- x - dF/dx + eps*z from Gaussian noise, calling\nthe linked energy stage: simple, but a real sampler stage to replace with\nyour own.", `stage "sampler" {
  plugin     = "NAME"
  energy     = stage.energy   # required: the energy whose dF/dx drives the chains
  epsilon    = 0.1            # Langevin noise sd (default 0.1)
  steps      = 10             # steps per Sample call (default 10)
  batch      = 64             # chains per call (default 64)
  init_scale = 1              # sd of the Gaussian initial state (default 1)
}`},
	sdk.KindData: {"data", "It draws isotropic Gaussian samples N(mean, sd^2 I) with an exact\nlog-density, one random stream per consumer: simple, but a real data stage\nto replace with your own.", `stage "data" {
  plugin     = "NAME"
  mean       = 0     # mean of every coordinate (default 0)
  sd         = 1     # sd of every coordinate (default 1)
  dim        = 2     # sample dimension (default 2)
  batch_size = 100   # samples per Next call that asks for 0 (default 100)
}`},
	sdk.KindDiagnostics: {"diagnostics", "It keeps running statistics of d_st and r_t and the share of iterations\nwith r_t in its band, and writes them as JSON into the run folder: simple,\nbut a real diagnostics stage to replace with your own.", `stage "diagnostics" {
  plugin = "NAME"
  r_band = [0.08, 0.15]   # target band of r_t (default [0.08, 0.15])
  file   = "NAME.json"    # report file in the run folder (default NAME.json)
}`},
}

func (c *pluginCommand) Run(args []string) int {
	if len(args) == 0 || args[0] != "new" {
		fmt.Fprint(c.err, c.Help())
		return exitInvalid
	}
	fs := flag.NewFlagSet("plugin new", flag.ContinueOnError)
	fs.SetOutput(c.err)
	fs.Usage = func() { fmt.Fprint(c.err, c.Help()) }
	dir := fs.String("dir", "", "")
	checkout := fs.String("ebmflow", "", "")
	noTidy := fs.Bool("no-tidy", false, "")
	lang := fs.String("lang", "go", "")
	python := fs.String("python", "/usr/bin/env python3", "")
	// Options may come before or after KIND NAME.
	var pos []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			return exitInvalid
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(pos) != 2 {
		fmt.Fprintf(c.err, "Error: plugin new takes KIND and NAME, got %d arguments\nFor additional help try 'ebmflow plugin -help'\n", len(pos))
		return exitInvalid
	}
	kind, name := sdk.Kind(pos[0]), pos[1]
	kf, ok := kindFiles[kind]
	if !ok {
		fmt.Fprintf(c.err, "Error: unknown plugin kind %q: want energy, sampler, data or diagnostics\nFor additional help try 'ebmflow plugin -help'\n", kind)
		return exitInvalid
	}
	if !pluginNameRE.MatchString(name) {
		fmt.Fprintf(c.err, "Error: plugin name %q: use lower-case letters, digits and '-', starting with a letter (the binary is %s%s)\n", name, host.BinaryPrefix, name)
		return exitInvalid
	}
	if *dir == "" {
		*dir = name
	}
	if entries, err := os.ReadDir(*dir); err == nil && len(entries) > 0 {
		fmt.Fprintf(c.err, "Error: %s exists and is not empty\n", *dir)
		return exitInvalid
	}
	if *checkout == "" {
		*checkout = findCheckout()
	} else if !isCheckout(*checkout) {
		fmt.Fprintf(c.err, "Error: -ebmflow %s: not a checkout of %s (no go.mod declaring it)\n", *checkout, ebmflowModule)
		return exitInvalid
	}
	switch *lang {
	case "go":
	case "python":
		return c.newPython(kind, name, *dir, *checkout, *python)
	default:
		fmt.Fprintf(c.err, "Error: -lang %q: want go or python\n", *lang)
		return exitInvalid
	}
	data := scaffold{Name: name, Kind: string(kind), Module: host.BinaryPrefix + name, Serve: kf.serve,
		Summary: kf.summary, HCL: strings.ReplaceAll(kf.hcl, "NAME", name), GoVersion: "1.26.0"}
	if *checkout != "" {
		abs, err := filepath.Abs(*checkout)
		if err != nil {
			fmt.Fprintf(c.err, "Error: %v\n", err)
			return exitInvalid
		}
		data.Replace = abs
		if v := goDirective(abs); v != "" {
			data.GoVersion = v
		}
	}
	files := map[string]string{
		"go.mod": "go.mod.tmpl", "main.go": "main.go.tmpl", "README.md": "README.md.tmpl",
		"plugin.go": string(kind) + ".go.tmpl", "plugin_test.go": string(kind) + "_test.go.tmpl",
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	for out, tmpl := range files {
		b, err := render(tmpl, data)
		if err != nil {
			fmt.Fprintf(c.err, "Error: %s: %v\n", out, err)
			return exitFailed
		}
		if err := os.WriteFile(filepath.Join(*dir, out), b, 0o644); err != nil {
			fmt.Fprintf(c.err, "Error: %v\n", err)
			return exitFailed
		}
	}
	fmt.Fprintf(c.out, "Created %s plugin %q in %s\n", kind, name, *dir)
	if data.Replace != "" {
		fmt.Fprintf(c.out, "go.mod builds against the ebmflow checkout %s (a replace directive)\n", data.Replace)
	}
	if !*noTidy {
		steps := [][]string{{"mod", "tidy"}}
		if data.Replace == "" {
			steps = [][]string{{"get", ebmflowModule + "@latest"}, {"mod", "tidy"}}
		}
		for _, s := range steps {
			cmd := exec.Command("go", s...)
			cmd.Dir = *dir
			if out, err := cmd.CombinedOutput(); err != nil {
				hint := ""
				if data.Replace == "" {
					hint = " or create the plugin again with -ebmflow naming an ebmflow checkout"
				}
				fmt.Fprintf(c.err, "Error: go %s in %s: %v\n%s\nThe files are written; fix the problem and run 'go mod tidy' there%s.\n", strings.Join(s, " "), *dir, err, out, hint)
				return exitFailed
			}
		}
	}
	fmt.Fprintf(c.out, "Next:\n  cd %s\n  go test ./...     # unit tests and the conformance harness\n  go build          # writes %s\n  EBMFLOW_PLUGIN_PATH=$PWD ebmflow plugins\n", *dir, data.Module)
	return exitOK
}

// scaffold is what the templates see.
type scaffold struct {
	Name, Kind, Module, Serve, Summary, HCL, Replace, GoVersion string
}

func render(name string, data scaffold) ([]byte, error) {
	t, err := template.New(name).Delims("[[", "]]").ParseFS(pluginTemplates, "templates/"+name)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, err
	}
	if strings.HasSuffix(name, ".go.tmpl") {
		return format.Source(b.Bytes())
	}
	return b.Bytes(), nil
}

// findCheckout returns the ebmflow checkout that contains the current folder
// or the running executable, or "".
func findCheckout() string {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		if r, err := filepath.EvalSymlinks(exe); err == nil {
			exe = r
		}
		starts = append(starts, filepath.Dir(exe))
	}
	for _, d := range starts {
		for {
			if isCheckout(d) {
				return d
			}
			parent := filepath.Dir(d)
			if parent == d {
				break
			}
			d = parent
		}
	}
	return ""
}

// isCheckout reports whether dir/go.mod declares the ebmflow module.
func isCheckout(dir string) bool {
	return moduleLine(filepath.Join(dir, "go.mod"), "module") == ebmflowModule
}

// goDirective returns the go version in dir/go.mod.
func goDirective(dir string) string { return moduleLine(filepath.Join(dir, "go.mod"), "go") }

// moduleLine returns the argument of the first go.mod line starting with
// the given directive.
func moduleLine(path, directive string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) == 2 && fields[0] == directive {
			return fields[1]
		}
	}
	return ""
}
