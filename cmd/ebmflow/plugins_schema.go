package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/agext/levenshtein"
	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/sdk"
)

// showPlugin prints the first plugin named name that ebmflow would use:
// its info and its stage block's attributes with type, default or
// "required", allowed range or values, and doc; as JSON, what its describe
// command printed, with the path and SHA-256.
func (c *pluginsCommand) showPlugin(bins []host.Binary, name string, asJSON bool) int {
	var b *host.Binary
	var names []string
	for i := range bins {
		names = append(names, bins[i].Name)
		if bins[i].Name == name && b == nil {
			b = &bins[i]
		}
	}
	if b == nil {
		msg := fmt.Sprintf("no plugin named %q found", name)
		if s := suggestName(name, names); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		fmt.Fprintf(c.err, "%s (ebmflow plugins lists those found)\n", msg)
		return exitInvalid
	}
	if b.Err != nil {
		fmt.Fprintf(c.err, "plugin %q at %s: %v\n", name, b.Path, b.Err)
		return exitInvalid
	}
	if asJSON {
		enc := json.NewEncoder(c.out)
		enc.SetIndent("", "  ")
		enc.Encode(struct {
			Info   sdk.Info   `json:"info"`
			Schema sdk.Schema `json:"schema"`
			Path   string     `json:"path"`
			SHA256 string     `json:"sha256"`
		}{b.Description.Info, b.Description.Schema, b.Path, b.SHA256})
		return exitOK
	}
	i := b.Description.Info
	fmt.Fprintf(c.out, "%s %s (%s, protocol %d): %s\n%s\n\n", i.Name, i.Version, i.Kind, i.Protocol, i.Description, b.Path)
	writeAttributes(c.out, b.Description.Schema)
	return exitOK
}

// writeAttributes writes a schema as a table, one attribute a line.
func writeAttributes(w io.Writer, s sdk.Schema) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ATTRIBUTE\tTYPE\tDEFAULT\tALLOWED\tDOC")
	for _, a := range s.Attributes {
		def := "-"
		switch {
		case a.Required:
			def = "required"
		case a.Default != nil:
			b, _ := json.Marshal(a.Default)
			def = string(b)
		}
		allowed := a.Bounds.String()
		if len(a.Enum) > 0 {
			vals := make([]string, len(a.Enum))
			for i, v := range a.Enum {
				if vals[i] = v; v == "" {
					vals[i] = `""`
				}
			}
			allowed = strings.Join(vals, " | ")
		}
		if allowed == "" {
			allowed = "-"
		} else if a.Type == sdk.TypeListNumber && a.Bounds.IsSet() {
			allowed += " each"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Name, a.Type, def, allowed, a.Doc)
	}
	tw.Flush()
}

// suggestName returns the name nearest to name (at most two edits), or "".
func suggestName(name string, names []string) string {
	best, dist := "", 3
	for _, n := range names {
		if d := levenshtein.Distance(name, n, nil); d < dist || (d == dist && n < best) {
			best, dist = n, d
		}
	}
	return best
}
