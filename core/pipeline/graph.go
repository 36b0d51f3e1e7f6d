package pipeline

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// edge is a reference from one stage (or the train block) to another.
type edge struct{ from, to, label string }

func (p *Pipeline) edges() []edge {
	var out []edge
	for _, s := range p.Order {
		attrs := slices.Sorted(maps.Keys(s.Refs))
		for _, a := range attrs {
			out = append(out, edge{s.Name, s.Refs[a], a})
		}
	}
	if t := p.Train; t != nil {
		for _, r := range []struct{ label, to string }{{"energy", t.Energy}, {"sampler", t.Sampler}, {"data", t.Data}} {
			out = append(out, edge{"train", r.to, r.label})
		}
		for _, d := range t.Diagnostics {
			out = append(out, edge{"train", d, "diagnostics"})
		}
	}
	return out
}

// DOT renders the stage graph in Graphviz's DOT language: one node per stage
// (labelled with its plugin and kind) and the train block, one edge per
// reference, pointing from the referring block to the referenced stage.
func (p *Pipeline) DOT() string {
	var b strings.Builder
	b.WriteString("digraph pipeline {\n  rankdir=LR;\n  node [shape=box];\n")
	for _, s := range p.Order {
		fmt.Fprintf(&b, "  %q [label=\"%s\\n%s (%s)\"];\n", s.Name, s.Name, s.Plugin, s.Kind)
	}
	b.WriteString("  \"train\" [shape=ellipse];\n")
	for _, e := range p.edges() {
		fmt.Fprintf(&b, "  %q -> %q [label=%q];\n", e.from, e.to, e.label)
	}
	b.WriteString("}\n")
	return b.String()
}

// Mermaid renders the stage graph as a Mermaid flowchart.
func (p *Pipeline) Mermaid() string {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	id := func(n string) string { return "s_" + strings.ReplaceAll(n, "-", "_") }
	for _, s := range p.Order {
		fmt.Fprintf(&b, "  %s[\"%s<br/>%s (%s)\"]\n", id(s.Name), s.Name, s.Plugin, s.Kind)
	}
	b.WriteString("  train((train))\n")
	for _, e := range p.edges() {
		from := id(e.from)
		if e.from == "train" {
			from = "train"
		}
		fmt.Fprintf(&b, "  %s -->|%s| %s\n", from, e.label, id(e.to))
	}
	return b.String()
}

// Plan renders the bound pipeline as text: variables, stages in order with
// their plugin, kind and attributes, the schedule and the train block.
func (p *Pipeline) Plan() string {
	var b strings.Builder
	vars := slices.Sorted(maps.Keys(p.Variables))
	for _, n := range vars {
		fmt.Fprintf(&b, "var.%s = %s (%s)\n", n, RenderValue(p.Variables[n]), p.VariableSources[n])
	}
	for _, s := range p.Order {
		fmt.Fprintf(&b, "stage %q: plugin %s (%s)\n", s.Name, s.Plugin, s.Kind)
		attrs := slices.Sorted(maps.Keys(s.Values))
		for _, a := range attrs {
			if t, ok := s.Refs[a]; ok {
				fmt.Fprintf(&b, "  %s = stage.%s\n", a, t)
			} else {
				fmt.Fprintf(&b, "  %s = %s\n", a, s.Values[a])
			}
		}
	}
	if sc := p.Schedule; sc != nil {
		fmt.Fprintf(&b, "schedule lr: %s initial=%g", sc.Kind, sc.Initial)
		for _, kv := range []struct {
			k string
			v float64
		}{{"final", sc.Final}, {"min", sc.Min}, {"decay", sc.Decay}, {"iterations", float64(sc.Iterations)}, {"step_size", float64(sc.StepSize)}, {"gamma", sc.Gamma}, {"warmup", float64(sc.Warmup)}, {"warmup_start", sc.WarmupStart}} {
			if kv.v != 0 {
				fmt.Fprintf(&b, " %s=%g", kv.k, kv.v)
			}
		}
		b.WriteString("\n")
	}
	if t := p.Train; t != nil {
		fmt.Fprintf(&b, "train: iterations=%d seed=%d batch=%d energy=stage.%s sampler=stage.%s data=stage.%s diagnostics=%v checkpoint_every=%d keep_checkpoints=%d sample_every=%d on_nonfinite=%s\n",
			t.Iterations, t.Seed, t.Batch, t.Energy, t.Sampler, t.Data, t.Diagnostics, t.CheckpointEvery, t.KeepCheckpoints, t.SampleEvery, t.OnNonfinite)
	}
	return b.String()
}
