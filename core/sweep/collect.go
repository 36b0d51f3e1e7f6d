package sweep

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ebmflow/ebmflow/core/runner"
	"github.com/ebmflow/ebmflow/sdk"
)

// Files collect writes into the sweep folder.
const (
	ResultsCSV = "results.csv"
	ResultsMD  = "results.md"
	ResultsPNG = "results.png"
)

// MaxWindow bounds the window of final statistics: the last half of a
// run's iterations, at most MaxWindow of them (diag-oscillation's default
// window is 2,000 iterations as well).
const MaxWindow = 2000

// Row is one point's line of the results table.
type Row struct {
	PointStatus
	// Window is how many final iterations the statistics cover.
	Window int `json:"window"`
	// DSTLast is the last d_st; DSTMean and DSTSD its mean and standard
	// deviation over the window; likewise r_t.
	DSTLast, DSTMean, DSTSD float64
	RLast, RMean            float64
	LRLast                  float64
	Wall                    float64
	// Class is the verdict of a diagnostics stage's summary in the run's
	// summary.json;
	// TV the EBM density's total variation from the true density (2-D runs
	// with the density diagnostic), NaN when absent.
	Class string
	TV    float64
}

// Collect builds the results table: each point's variables, state and the
// final metrics of its run folder.
func (s *Sweep) Collect(ctx context.Context) ([]Row, string, error) {
	sts, note, err := s.Status(ctx)
	if sts == nil {
		return nil, note, err
	}
	rows := make([]Row, len(sts))
	for i, st := range sts {
		rows[i] = collectRow(st, s.RunDir(st.Point))
	}
	return rows, note, err
}

func collectRow(st PointStatus, run string) Row {
	r := Row{PointStatus: st, DSTLast: math.NaN(), DSTMean: math.NaN(), DSTSD: math.NaN(), RLast: math.NaN(), RMean: math.NaN(), LRLast: math.NaN(), Wall: math.NaN(), TV: math.NaN()}
	ms, _ := runner.ReadMetrics(filepath.Join(run, "metrics.jsonl"))
	if n := len(ms); n > 0 {
		last := ms[n-1]
		r.DSTLast, r.RLast, r.LRLast, r.Wall = last.DST, last.R, last.LR, last.Wall
		r.Window = min(max(n/2, 1), MaxWindow)
		win := ms[n-r.Window:]
		var sd, sr float64
		for _, m := range win {
			sd += m.DST
			sr += m.R
		}
		r.DSTMean, r.RMean = sd/float64(len(win)), sr/float64(len(win))
		var v float64
		for _, m := range win {
			v += (m.DST - r.DSTMean) * (m.DST - r.DSTMean)
		}
		if len(win) > 1 {
			r.DSTSD = math.Sqrt(v / float64(len(win)-1))
		}
	}
	r.Class, r.TV = readReport(run)
	return r
}

// readReport reads the run's summary.json, written by the core from the
// diagnostics stages' report summaries, and returns the first stage's
// (in name order) "verdict" and its "metrics"."tv_ebm".
func readReport(run string) (string, float64) {
	sum, err := runner.ReadSummary(run)
	if err != nil {
		return "", math.NaN()
	}
	names := slices.Sorted(maps.Keys(sum.Stages))
	for _, name := range names {
		var doc struct {
			Verdict string             `json:"verdict"`
			Metrics map[string]float64 `json:"metrics"`
		}
		if json.Unmarshal(sum.Stages[name], &doc) != nil || doc.Verdict == "" {
			continue
		}
		tv, ok := doc.Metrics["tv_ebm"]
		if !ok {
			tv = math.NaN()
		}
		return doc.Verdict, tv
	}
	return "", math.NaN()
}

// header returns the table's column names.
func header(vars []string) []string {
	h := []string{"index", "name"}
	h = append(h, vars...)
	return append(h, "state", "exit_code", "last_t", "window", "d_st_last", "d_st_mean", "d_st_sd", "r_t_last", "r_t_mean", "lr_last", "class", "tv_ebm", "wall_seconds")
}

func (r Row) cells(vars []string) []string {
	c := []string{strconv.Itoa(r.Index), r.Name}
	for _, v := range vars {
		c = append(c, r.Vars[v])
	}
	code := ""
	if r.ExitCode != nil {
		code = strconv.Itoa(*r.ExitCode)
	}
	return append(c, r.State, code, strconv.Itoa(r.Iteration), strconv.Itoa(r.Window), num(r.DSTLast), num(r.DSTMean), num(r.DSTSD),
		num(r.RLast), num(r.RMean), num(r.LRLast), r.Class, num(r.TV), num(r.Wall))
}

// num renders a value for the table; NaN (absent) is empty.
func num(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// WriteCSV writes the table as CSV, one row per point.
func WriteCSV(w io.Writer, vars []string, rows []Row) error {
	cw := csv.NewWriter(w)
	cw.Write(header(vars))
	for _, r := range rows {
		cw.Write(r.cells(vars))
	}
	cw.Flush()
	return cw.Error()
}

// WriteMarkdown writes the table as Markdown, then for each failed or
// killed point its detail and the tail of its log.
func WriteMarkdown(w io.Writer, title string, vars []string, rows []Row) error {
	h := header(vars)
	fmt.Fprintf(w, "# Sweep %s\n\n", title)
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(h, " | "), strings.Repeat("---|", len(h)))
	for _, r := range rows {
		c := r.cells(vars)
		for i := range c {
			c[i] = strings.ReplaceAll(c[i], "|", `\|`)
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(c, " | "))
	}
	fmt.Fprintf(w, "\nd_st and r_t statistics cover each run's last `window` iterations (half the run, at most %d).\n", MaxWindow)
	for _, r := range rows {
		if r.State != StateFailed && r.State != StateKilled && r.State != StateInterrupted {
			continue
		}
		fmt.Fprintf(w, "\n## %s: %s", r.Name, r.State)
		if r.Detail != "" {
			fmt.Fprintf(w, " (%s)", r.Detail)
		}
		fmt.Fprintln(w)
		if len(r.LogTail) > 0 {
			fmt.Fprintf(w, "\n```\n%s\n```\n", strings.Join(r.LogTail, "\n"))
		}
	}
	return nil
}

// WriteResults writes results.csv, results.md and results.png into the
// sweep folder and returns their paths.
func (s *Sweep) WriteResults(rows []Row) ([]string, error) {
	var paths []string
	for _, f := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{ResultsCSV, func(w io.Writer) error { return WriteCSV(w, s.Plan.Variables, rows) }},
		{ResultsMD, func(w io.Writer) error { return WriteMarkdown(w, s.Plan.Name, s.Plan.Variables, rows) }},
		{ResultsPNG, func(w io.Writer) error { return Plot(w, s.Plan.Name, rows) }},
	} {
		var b strings.Builder
		if err := f.write(&b); err != nil {
			return paths, fmt.Errorf("%s: %w", f.name, err)
		}
		p := filepath.Join(s.Dir, f.name)
		if err := sdk.WriteFileAtomic(p, []byte(b.String()), 0o644); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}
