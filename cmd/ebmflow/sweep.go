package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/ebmflow/ebmflow/core/sweep"
)

type sweepCommand struct{ ui }

func (c *sweepCommand) Synopsis() string { return "Run a pipeline at many points, locally or on Slurm" }
func (c *sweepCommand) Help() string {
	return strings.TrimSpace(`
Usage: ebmflow sweep plan    [options] PIPELINE
       ebmflow sweep run     [options] PIPELINE
       ebmflow sweep status  [-json] SWEEPDIR
       ebmflow sweep wait    [-poll D] [-timeout D] SWEEPDIR
       ebmflow sweep retry   [-parallel K] [-executor E] SWEEPDIR
       ebmflow sweep cancel  SWEEPDIR
       ebmflow sweep collect SWEEPDIR

  A sweep block in the pipeline (or in the file given by -sweep) lists
  values per variable: a grid block, whose every combination is a point,
  and a points list of explicit points. Each point is an ordinary
  'ebmflow run' in its own run folder SWEEPDIR/runs/NAME.

    sweep {
      grid { epsilon = [0.01, 0.1]  lr = [0.1, 0.01] }
      points = [{ epsilon = 0.5, lr = 0.3 }]
    }
    slurm { partition = "gpu"  time = "02:00:00"  cpus = 4  memory = "8G"  gpus = 1 }

  plan prints the points and their run names. run runs them: with
  -executor local as subprocesses of this ebmflow, K at a time, until all
  end; with -executor slurm as one job array (sbatch --array=...%K), then
  returns. status shows each point's state (from squeue and sacct for
  Slurm sweeps), with the exit code and the end of the log of failed
  points; wait waits until no point is queued or running; retry resubmits
  the failed, killed, interrupted and cancelled points, resuming each from
  its last checkpoint when it has one; cancel stops the sweep (running
  points checkpoint and stop); collect writes results.csv, results.md and
  results.png comparing the points' final metrics.

Options of plan and run:

`+varFlagsHelp+`
  -sweep FILE       read the sweep (and slurm) blocks from FILE
  -json             plan: print the points as JSON

Options of run:

  -executor E       local (default) or slurm
  -parallel K       points at once (default: the sweep block's parallel, or 2)
  -out DIR          the sweep folder (default sweeps/NAME-UTCTIME)
  -partition P, -time T, -cpus N, -memory M, -gpus N, -account A
                    Slurm resources, over the slurm block's

Exit codes: 0 ok (run, wait: every point done); 1 invalid input; 2 a
point failed (run -executor local, wait, retry -executor local) or Slurm
is not installed or not reachable.
`) + "\n"
}

func (c *sweepCommand) usage() int {
	fmt.Fprint(c.err, c.Help())
	return exitInvalid
}

func (c *sweepCommand) Run(args []string) int {
	if len(args) == 0 {
		return c.usage()
	}
	switch args[0] {
	case "plan":
		return c.plan(args[1:])
	case "run":
		return c.run(args[1:])
	case "status":
		return c.status(args[1:])
	case "wait":
		return c.wait(args[1:])
	case "retry":
		return c.retry(args[1:])
	case "cancel":
		return c.cancel(args[1:])
	case "collect":
		return c.collect(args[1:])
	case "task":
		return c.task(args[1:])
	case "-help", "--help", "-h", "help":
		fmt.Fprint(c.out, c.Help())
		return exitOK
	}
	fmt.Fprintf(c.err, "ebmflow sweep: unknown subcommand %q\n\n", args[0])
	return c.usage()
}

func (c *sweepCommand) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("sweep "+name, flag.ContinueOnError)
	fs.SetOutput(c.err)
	fs.Usage = func() { fmt.Fprint(c.err, c.Help()) }
	return fs
}

// load reads the plan of plan and run.
func (c *sweepCommand) load(fs *flag.FlagSet, args []string, extra func()) (*sweep.Loaded, int) {
	vars := addVarFlags(fs)
	sweepFile := fs.String("sweep", "", "")
	if extra != nil {
		extra()
	}
	if err := fs.Parse(args); err != nil {
		return nil, exitInvalid
	}
	if fs.NArg() != 1 {
		return nil, c.usage()
	}
	l, diags := sweep.Load(fs.Arg(0), sweep.LoadOptions{SweepFile: *sweepFile, Vars: vars.vars})
	if diags.HasErrors() {
		var files = l.Files
		writeDiags(c.err, files, diags)
		fmt.Fprintf(c.err, "Error parsing sweep: %d problems\nFor additional help try 'ebmflow sweep -help'\n", countErrors(diags))
		return nil, exitInvalid
	}
	return l, exitOK
}

func (c *sweepCommand) plan(args []string) int {
	fs := c.flags("plan")
	asJSON := fs.Bool("json", false, "")
	l, code := c.load(fs, args, nil)
	if l == nil {
		return code
	}
	if *asJSON {
		b, _ := json.MarshalIndent(l.Plan, "", "  ")
		fmt.Fprintf(c.out, "%s\n", b)
		return exitOK
	}
	p := l.Plan
	fmt.Fprintf(c.out, "Sweep %s: %d points of %s, %d at a time\n\n", p.Name, len(p.Points), p.Pipeline, p.Parallel)
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "INDEX\tRUN NAME\t%s\n", strings.Join(p.Variables, "\t"))
	for _, pt := range p.Points {
		vals := make([]string, len(p.Variables))
		for i, v := range p.Variables {
			vals[i] = pt.Vars[v]
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\n", pt.Index, pt.Name, strings.Join(vals, "\t"))
	}
	tw.Flush()
	return exitOK
}

func (c *sweepCommand) run(args []string) int {
	fs := c.flags("run")
	var executor, out, partition, tlimit, memory, account *string
	var parallel, cpus, gpus *int
	l, code := c.load(fs, args, func() {
		executor = fs.String("executor", sweep.Local, "")
		parallel = fs.Int("parallel", 0, "")
		out = fs.String("out", "", "")
		partition = fs.String("partition", "", "")
		tlimit = fs.String("time", "", "")
		cpus = fs.Int("cpus", 0, "")
		memory = fs.String("memory", "", "")
		gpus = fs.Int("gpus", 0, "")
		account = fs.String("account", "", "")
	})
	if l == nil {
		return code
	}
	if *executor != sweep.Local && *executor != sweep.Slurm {
		fmt.Fprintf(c.err, "Error: -executor must be local or slurm, not %q\n", *executor)
		return exitInvalid
	}
	sl := &l.Plan.Slurm
	for _, o := range []struct {
		dst *string
		v   string
	}{{&sl.Partition, *partition}, {&sl.Time, *tlimit}, {&sl.Memory, *memory}, {&sl.Account, *account}} {
		if o.v != "" {
			*o.dst = o.v
		}
	}
	if *cpus > 0 {
		sl.CPUs = *cpus
	}
	if *gpus > 0 {
		sl.GPUs = *gpus
	}
	if *parallel > 0 {
		l.Plan.Parallel = *parallel
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if *executor == sweep.Slurm {
		// Fail before creating anything when Slurm cannot take the job.
		if err := sweep.CheckSlurm(ctx); err != nil {
			fmt.Fprintf(c.err, "Error: %v\n", err)
			return exitFailed
		}
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("sweeps", l.Plan.Name+"-"+time.Now().UTC().Format("20060102T150405Z"))
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(c.err, "Error: cannot find the ebmflow binary: %v\n", err)
		return exitFailed
	}
	s, diags := sweep.Create(ctx, dir, l, *executor, self)
	if diags.HasErrors() {
		writeDiags(c.err, l.Files, diags)
		fmt.Fprintf(c.err, "Error preparing sweep: %d problems\nFor additional help try 'ebmflow sweep -help'\n", countErrors(diags))
		return exitInvalid
	}
	all := make([]int, len(s.Plan.Points))
	for i := range all {
		all[i] = i
	}
	return c.execute(ctx, s, all, *executor, s.Plan.Parallel)
}

// execute hands the points to the executor: local runs them to the end,
// slurm submits them.
func (c *sweepCommand) execute(ctx context.Context, s *sweep.Sweep, idx []int, executor string, parallel int) int {
	if executor == sweep.Slurm {
		job, err := s.SubmitSlurm(ctx, idx, parallel)
		if err != nil {
			fmt.Fprintf(c.err, "Error: %v\n", err)
			return exitFailed
		}
		fmt.Fprintf(c.err, "Submitted %d points as Slurm array job %s (%s%%%d); follow with: ebmflow sweep status %s\n",
			len(idx), job, sweep.ArraySpec(idx, 0), parallel, s.Dir)
		fmt.Fprintln(c.out, s.Dir)
		return exitOK
	}
	fmt.Fprintf(c.err, "Running %d points of sweep %s, %d at a time, in %s\n", len(idx), s.Plan.Name, parallel, s.Dir)
	_, err := s.RunLocal(ctx, idx, parallel, func(r sweep.Result) {
		switch {
		case r.Err != nil:
			fmt.Fprintf(c.err, "  point %d %s: error: %v\n", r.Point.Index, r.Point.Name, r.Err)
		case r.ExitCode == 0:
			fmt.Fprintf(c.err, "  point %d %s: done\n", r.Point.Index, r.Point.Name)
		default:
			fmt.Fprintf(c.err, "  point %d %s: exit %d (log: %s)\n", r.Point.Index, r.Point.Name, r.ExitCode, s.LogPath(r.Point))
		}
	})
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	sts, note, _ := s.Status(context.Background())
	c.printStatus(s, sts, note)
	fmt.Fprintln(c.out, s.Dir)
	if allDone(sts) {
		return exitOK
	}
	return exitFailed
}

func allDone(sts []sweep.PointStatus) bool {
	for _, st := range sts {
		if st.State != sweep.StateDone {
			return false
		}
	}
	return true
}

// open reads the one SWEEPDIR argument.
func (c *sweepCommand) open(fs *flag.FlagSet, args []string) (*sweep.Sweep, int) {
	if err := fs.Parse(args); err != nil {
		return nil, exitInvalid
	}
	if fs.NArg() != 1 {
		return nil, c.usage()
	}
	s, err := sweep.Open(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return nil, exitInvalid
	}
	return s, exitOK
}

func (c *sweepCommand) status(args []string) int {
	fs := c.flags("status")
	asJSON := fs.Bool("json", false, "")
	s, code := c.open(fs, args)
	if s == nil {
		return code
	}
	sts, note, err := s.Status(context.Background())
	if sts == nil && err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	if *asJSON {
		b, _ := json.MarshalIndent(struct {
			Note   string              `json:"note,omitempty"`
			Points []sweep.PointStatus `json:"points"`
		}{note, sts}, "", "  ")
		fmt.Fprintf(c.out, "%s\n", b)
	} else {
		c.printStatus(s, sts, note)
	}
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	return exitOK
}

func (c *sweepCommand) printStatus(s *sweep.Sweep, sts []sweep.PointStatus, note string) {
	fmt.Fprintf(c.out, "Sweep %s (%s executor, %d points) in %s\n", s.Plan.Name, s.Executor, len(sts), s.Dir)
	if note != "" {
		fmt.Fprintf(c.out, "Note: %s\n", note)
	}
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INDEX\tNAME\tSTATE\tEXIT\tITERATION\tATTEMPT\tJOB\tDETAIL")
	for _, st := range sts {
		code := "-"
		if st.ExitCode != nil {
			code = strconv.Itoa(*st.ExitCode)
		}
		iter := strconv.Itoa(st.Iteration)
		if st.Total > 0 {
			iter += "/" + strconv.Itoa(st.Total)
		}
		job := st.Job
		if job == "" {
			job = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", st.Index, st.Name, st.State, code, iter, st.Attempt, job, st.Detail)
	}
	tw.Flush()
	counts := sweep.Counts(sts)
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, counts[k])
	}
	fmt.Fprintf(c.out, "%s\n", strings.Join(parts, ", "))
	for _, st := range sts {
		if len(st.LogTail) == 0 {
			continue
		}
		fmt.Fprintf(c.out, "\n%s %s (%s), end of %s:\n", st.Name, st.State, st.Detail, s.LogPath(st.Point))
		for _, l := range st.LogTail {
			fmt.Fprintf(c.out, "  | %s\n", l)
		}
	}
}

func (c *sweepCommand) wait(args []string) int {
	fs := c.flags("wait")
	poll := fs.Duration("poll", 5*time.Second, "")
	timeout := fs.Duration("timeout", 0, "")
	s, code := c.open(fs, args)
	if s == nil {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	last := ""
	sts, note, err := s.Wait(ctx, *poll, func(sts []sweep.PointStatus, _ string) {
		counts := sweep.Counts(sts)
		line := fmt.Sprintf("pending %d, running %d, done %d, other %d", counts[sweep.StatePending], counts[sweep.StateRunning], counts[sweep.StateDone],
			len(sts)-counts[sweep.StatePending]-counts[sweep.StateRunning]-counts[sweep.StateDone])
		if line != last {
			fmt.Fprintf(c.err, "%s %s\n", time.Now().Format("15:04:05"), line)
			last = line
		}
	})
	if sts != nil {
		c.printStatus(s, sts, note)
	}
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	if allDone(sts) {
		return exitOK
	}
	return exitFailed
}

func (c *sweepCommand) retry(args []string) int {
	fs := c.flags("retry")
	parallel := fs.Int("parallel", 0, "")
	executor := fs.String("executor", "", "")
	s, code := c.open(fs, args)
	if s == nil {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	sts, note, err := s.Status(ctx)
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	if note != "" {
		fmt.Fprintf(c.err, "Note: %s\n", note)
	}
	idx := sweep.RetryIndices(sts)
	if len(idx) == 0 {
		fmt.Fprintln(c.err, "No point to retry: none failed, was killed, interrupted or cancelled.")
		c.printStatus(s, sts, note)
		if allDone(sts) {
			return exitOK
		}
		return exitFailed
	}
	for _, i := range idx {
		st := sts[i]
		how := "from the start"
		if st.Checkpoint > 0 {
			how = fmt.Sprintf("resuming from checkpoint %d", st.Checkpoint)
		}
		fmt.Fprintf(c.err, "Retrying point %d %s (%s), %s\n", i, st.Name, st.State, how)
	}
	if err := s.ClearCancel(); err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	ex := s.Executor
	if *executor != "" {
		ex = *executor
	}
	if ex != sweep.Local && ex != sweep.Slurm {
		fmt.Fprintf(c.err, "Error: -executor must be local or slurm, not %q\n", ex)
		return exitInvalid
	}
	p := s.Plan.Parallel
	if *parallel > 0 {
		p = *parallel
	}
	return c.execute(ctx, s, idx, ex, p)
}

func (c *sweepCommand) cancel(args []string) int {
	s, code := c.open(c.flags("cancel"), args)
	if s == nil {
		return code
	}
	n, err := s.Cancel(context.Background())
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	if jobs := len(s.Submissions); s.Executor == sweep.Slurm && jobs > 0 {
		fmt.Fprintf(c.err, "Cancelled the sweep's Slurm jobs; running points write a checkpoint and stop. Resume them with: ebmflow sweep retry %s\n", s.Dir)
	} else {
		fmt.Fprintf(c.err, "Cancelled: %d running points signalled, no new point starts. Resume with: ebmflow sweep retry %s\n", n, s.Dir)
	}
	return exitOK
}

func (c *sweepCommand) collect(args []string) int {
	s, code := c.open(c.flags("collect"), args)
	if s == nil {
		return code
	}
	rows, note, err := s.Collect(context.Background())
	if rows == nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	if note != "" {
		fmt.Fprintf(c.err, "Note: %s\n", note)
	}
	paths, werr := s.WriteResults(rows)
	if werr != nil {
		fmt.Fprintf(c.err, "Error: %v\n", werr)
		return exitFailed
	}
	sweep.WriteMarkdown(c.out, s.Plan.Name, s.Plan.Variables, rows)
	fmt.Fprintf(c.err, "Wrote %s\n", strings.Join(paths, ", "))
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// task runs one point inside a Slurm array task: `ebmflow sweep task DIR
// INDEX`, written into job.sh.
func (c *sweepCommand) task(args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(c.err, "Usage: ebmflow sweep task SWEEPDIR INDEX (run by the Slurm job script)")
		return exitInvalid
	}
	s, err := sweep.Open(args[0])
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitInvalid
	}
	i, err := strconv.Atoi(args[1])
	if err != nil {
		fmt.Fprintf(c.err, "Error: task index %q: %v\n", args[1], err)
		return exitInvalid
	}
	p, err := s.Point(i)
	if err != nil {
		fmt.Fprintf(c.err, "Error: %v\n", err)
		return exitInvalid
	}
	// The first SIGTERM or SIGINT (sweep cancel's scancel --batch, or
	// --signal=B:TERM before the time limit) is passed on to ebmflow run,
	// which checkpoints and exits 4.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		for sig := range sigs {
			fmt.Fprintf(c.err, "ebmflow sweep task: %s received; ebmflow run is told to checkpoint and stop\n", sig)
			cancel()
		}
	}()
	job := os.Getenv("SLURM_ARRAY_JOB_ID")
	if job != "" {
		job += "_" + os.Getenv("SLURM_ARRAY_TASK_ID")
	}
	code, err := s.RunPoint(ctx, p, sweep.Slurm, job)
	if err != nil {
		fmt.Fprintf(c.err, "Error: point %d: %v\n", i, err)
		if code <= 0 {
			return exitFailed
		}
	}
	fmt.Fprintf(c.err, "point %d %s: ebmflow run exited %d\n", i, p.Name, code)
	if code < 0 || code > 255 {
		return exitFailed
	}
	return code
}
