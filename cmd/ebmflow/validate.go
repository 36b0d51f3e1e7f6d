package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/core/pipeline"
	"github.com/ebmflow/ebmflow/core/runner"
	"github.com/hashicorp/hcl/v2"
	"github.com/rs/zerolog"
)

type validateCommand struct{ ui }

func (c *validateCommand) Synopsis() string { return "Check a pipeline and print its plan" }
func (c *validateCommand) Help() string {
	return strings.TrimSpace(`
Usage: ebmflow validate [options] PIPELINE

  Checks the pipeline and reports every problem at once, each with
  file:line:column and a source snippet: syntax, unknown or mistyped
  attributes (including the plugin-owned ones of stage blocks), missing
  required attributes, references to undeclared stages, stages of the wrong
  kind, reference cycles, missing plugin binaries, lock-file mismatches, and
  tensor shapes that disagree between stages (the plugins are started and
  configured to learn them). On success prints the plan and what training
  will cost in image-steps of dF/dx (one gradient for one sample), per
  iteration and for the run, as the stages declare it: the training
  sampler's batch x its gradients per chain, plus chains other stages draw
  through a sampler (diagnostics measuring samples).

Options:

`+varFlagsHelp+`
  -json             print the diagnostics (or the plan) as JSON

Exit codes: 0 valid, 1 invalid.
`) + "\n"
}

// jsonDiag is a diagnostic in -json output.
type jsonDiag struct {
	Severity string     `json:"severity"`
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail,omitempty"`
	Range    *jsonRange `json:"range,omitempty"`
}

// jsonRange is an hcl.Range with snake_case keys.
type jsonRange struct {
	Filename string  `json:"filename"`
	Start    jsonPos `json:"start"`
	End      jsonPos `json:"end"`
}

type jsonPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

func rangeJSON(r *hcl.Range) *jsonRange {
	if r == nil {
		return nil
	}
	return &jsonRange{Filename: r.Filename,
		Start: jsonPos{r.Start.Line, r.Start.Column, r.Start.Byte},
		End:   jsonPos{r.End.Line, r.End.Column, r.End.Byte}}
}

func (c *validateCommand) Run(args []string) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(c.err)
	fs.Usage = func() { fmt.Fprint(c.err, c.Help()) }
	vars := addVarFlags(fs)
	asJSON := fs.Bool("json", false, "")
	if err := fs.Parse(args); err != nil {
		return exitInvalid
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitInvalid
	}
	p, cost, diags := validatePipeline(context.Background(), fs.Arg(0), vars.options())
	if *asJSON {
		out := struct {
			Valid       bool         `json:"valid"`
			Diagnostics []jsonDiag   `json:"diagnostics"`
			Plan        string       `json:"plan,omitempty"`
			Cost        *runner.Cost `json:"cost,omitempty"`
		}{Valid: !diags.HasErrors(), Diagnostics: []jsonDiag{}}
		for _, d := range diags {
			sev := "error"
			if d.Severity == hcl.DiagWarning {
				sev = "warning"
			}
			out.Diagnostics = append(out.Diagnostics, jsonDiag{Severity: sev, Summary: d.Summary, Detail: d.Detail, Range: rangeJSON(d.Subject)})
		}
		if out.Valid {
			out.Plan, out.Cost = p.Plan(), cost
		}
		enc := json.NewEncoder(c.out)
		enc.SetIndent("", "  ")
		enc.Encode(out)
	} else {
		writeDiags(c.err, files(p), diags)
		if !diags.HasErrors() {
			fmt.Fprintf(c.out, "The pipeline is valid.\n\n%s\n%s", p.Plan(), cost)
		}
	}
	if diags.HasErrors() {
		return exitInvalid
	}
	return exitOK
}

// validatePipeline loads the pipeline, reporting every problem at once,
// and when that succeeds starts and configures its plugins (without a run
// folder) to check what only they know: their own diagnostics and the
// shapes they declare. The cost is what the configured stages declared,
// added up over the run (nil when the pipeline is not valid).
func validatePipeline(ctx context.Context, path string, opts pipeline.Options) (*pipeline.Pipeline, *runner.Cost, hcl.Diagnostics) {
	p, res, diags := runner.Load(ctx, path, runner.LoadOptions{Options: opts, Lenient: true})
	if diags.HasErrors() {
		return p, nil, diags
	}
	h := host.New(host.Options{Logger: zerolog.Nop()})
	defer h.Close()
	st, more := runner.Launch(ctx, p, res, h, "")
	diags = append(diags, more...)
	if diags.HasErrors() || st == nil {
		return p, nil, diags
	}
	cost := runner.EstimateCost(p, st.Costs())
	return p, &cost, diags
}
