package pipeline

import (
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

var stageOnly = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "stage", LabelNames: []string{"name"}}}}

// PluginNames returns the plugins the pipeline's stage blocks name, sorted
// and without repeats: each stage "NAME" { plugin = "PLUGIN" ... } block's
// plugin attribute, which must be a literal string.
func PluginNames(path string) ([]string, hcl.Diagnostics) {
	f, diags := hclparse.NewParser().ParseHCLFile(path)
	if diags.HasErrors() {
		return nil, diags
	}
	content, _, more := f.Body.PartialContent(stageOnly)
	diags = append(diags, more...)
	seen := map[string]bool{}
	var names []string
	for _, b := range content.Blocks {
		attrs, _ := b.Body.JustAttributes()
		a, ok := attrs["plugin"]
		if !ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing plugin",
				Detail: "stage \"" + b.Labels[0] + "\" has no plugin attribute", Subject: b.DefRange.Ptr()})
			continue
		}
		v, d := a.Expr.Value(nil)
		if d.HasErrors() || !v.Type().Equals(v.Type()) || !v.IsKnown() || v.IsNull() || v.Type().FriendlyName() != "string" {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid plugin",
				Detail: "plugin must be a literal string such as \"energy-convnet\"", Subject: a.Expr.Range().Ptr()})
			continue
		}
		if n := v.AsString(); !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, diags
}
