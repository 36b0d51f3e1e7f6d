package runner

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ebmflow/ebmflow/core/pipeline"
	"github.com/ebmflow/ebmflow/sdk"
)

// Cost is what a pipeline's training will cost in evaluations of dF/dx,
// counted in image-steps (one evaluation for one sample), from what each
// stage declared at Configure (sdk.Config.DeclareCost) and the train
// block. It counts the training sampler's chains and the chains other
// stages draw through sampler links; it leaves out the energy's weight
// update and energy evaluations without a gradient.
type Cost struct {
	// PerIteration is the mean over the run's iterations.
	PerIteration float64 `json:"per_iteration"`
	// Run is the total over Iterations iterations.
	Run        float64 `json:"run"`
	Iterations int     `json:"iterations"`
	// Terms are the parts, the training sampler's first.
	Terms []CostTerm `json:"terms"`
	// Unknown says which parts could not be counted (a stage that declared
	// no cost); PerIteration and Run then count the rest only.
	Unknown []string `json:"unknown,omitempty"`
}

// CostTerm is one part of a Cost.
type CostTerm struct {
	Stage string `json:"stage"`
	// What says how the numbers come about.
	What string `json:"what"`
	// PerIteration is the mean over the run's iterations.
	PerIteration float64 `json:"per_iteration"`
	// Average is set when PerIteration is a mean of draws made at some
	// iterations only.
	Average bool    `json:"average,omitempty"`
	Run     float64 `json:"run"`
}

// EstimateCost adds up the declared costs (by stage name) over the
// pipeline's iterations, from iteration 1: the training sampler's batch
// chains every iteration and each declared draw at every iteration
// divisible by its period.
func EstimateCost(p *pipeline.Pipeline, costs map[string]*sdk.Cost) Cost {
	t := p.Train
	c := Cost{Iterations: t.Iterations, Terms: []CostTerm{}}
	grads := func(stage string) (int, bool) {
		sc := costs[stage]
		if sc == nil || sc.GradsPerRow <= 0 {
			return 0, false
		}
		return sc.GradsPerRow, true
	}
	if g, ok := grads(t.Sampler); ok {
		per := float64(t.Batch) * float64(g)
		c.Terms = append(c.Terms, CostTerm{Stage: t.Sampler, PerIteration: per, Run: per * float64(t.Iterations),
			What: fmt.Sprintf("training negatives, batch %d x %d dF/dx per chain every iteration", t.Batch, g)})
	} else if t.Sampler != "" {
		c.Unknown = append(c.Unknown, unknownCost(p, t.Sampler, "the training negatives"))
	}
	for _, s := range p.Order {
		sc := costs[s.Name]
		if sc == nil {
			continue
		}
		for _, d := range sc.Draws {
			target := s.Refs[d.Link]
			if target == "" || d.Every < 1 || d.Rows < 1 {
				continue
			}
			g, ok := grads(target)
			if !ok {
				c.Unknown = append(c.Unknown, unknownCost(p, target, fmt.Sprintf("stage %q's draws", s.Name)))
				continue
			}
			calls := t.Iterations / d.Every
			run := float64(calls) * float64(d.Rows) * float64(g)
			term := CostTerm{Stage: s.Name, Run: run, Average: d.Every > 1,
				What: fmt.Sprintf("%d chains x %d dF/dx through stage %q every %d iterations (%d times)", d.Rows, g, target, d.Every, calls)}
			if t.Iterations > 0 {
				term.PerIteration = run / float64(t.Iterations)
			}
			c.Terms = append(c.Terms, term)
		}
	}
	for _, term := range c.Terms {
		c.PerIteration += term.PerIteration
		c.Run += term.Run
	}
	return c
}

func unknownCost(p *pipeline.Pipeline, stage, what string) string {
	plugin := ""
	if s := p.Stage(stage); s != nil {
		plugin = s.Plugin
	}
	return fmt.Sprintf("%s: stage %q (plugin %s) declares no cost", what, stage, plugin)
}

// Costs returns the cost each configured stage declared, by stage name.
func (st *Stages) Costs() map[string]*sdk.Cost {
	out := map[string]*sdk.Cost{}
	for _, name := range slices.Sorted(maps.Keys(st.Procs)) {
		if c := st.Procs[name].Cost; c != nil {
			out[name] = c
		}
	}
	return out
}

// String writes the cost as validate prints it.
func (c Cost) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cost in image-steps of dF/dx (one gradient for one sample):\n")
	for _, t := range c.Terms {
		avg := ""
		if t.Average {
			avg = " on average"
		}
		fmt.Fprintf(&b, "  stage %q: %s: %s per iteration%s, %s for the run\n", t.Stage, t.What, count(t.PerIteration), avg, count(t.Run))
	}
	for _, u := range c.Unknown {
		fmt.Fprintf(&b, "  not counted: %s\n", u)
	}
	fmt.Fprintf(&b, "  total: %s per iteration, %s for the run (%d iterations)\n", count(c.PerIteration), count(c.Run), c.Iterations)
	return b.String()
}

// count writes an image-step count: whole numbers with thousands
// separators, others with three significant digits.
func count(v float64) string {
	if v != float64(int64(v)) || v >= 1e15 {
		return fmt.Sprintf("%.3g", v)
	}
	s := fmt.Sprint(int64(v))
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
