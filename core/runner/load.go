package runner

import (
	"context"
	"path/filepath"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/core/pipeline"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/hashicorp/hcl/v2"
)

// LoadOptions say where a pipeline comes from and how Load treats it.
type LoadOptions struct {
	// Options are the variables' settings (-var, -var-file, the
	// environment, a manifest's or a sweep point's values).
	pipeline.Options
	// Source, when set, is the pipeline's text, recorded as read from the
	// path given to Load (a manifest's pipeline); otherwise the file is read.
	Source []byte
	// Resolver, when set, resolves the plugins (the points of a sweep share
	// one); otherwise Load makes one for the pipeline's folder.
	Resolver *host.Resolver
	// Lenient binds the stages even when parsing found errors, so that one
	// report holds every problem (validate). Otherwise Load stops there.
	Lenient bool
}

// Load is the one way a pipeline is loaded: it parses the pipeline at path,
// resolves its plugins (a plugin block's source, or discovery; hashes
// checked against the lock file) and binds the stages against their
// plugins' schemas. The pipeline is returned whenever it could be read, so
// that the caller can render the diagnostics with p.Files; it is usable only
// when they hold no error. The resolver says which binaries were found; its
// Commit pins new ones in the lock file.
func Load(ctx context.Context, path string, o LoadOptions) (*pipeline.Pipeline, *host.Resolver, hcl.Diagnostics) {
	var p *pipeline.Pipeline
	var diags hcl.Diagnostics
	if o.Source != nil {
		p, diags = pipeline.ParseSource(path, o.Source, o.Options)
	} else {
		p, diags = pipeline.Parse(path, o.Options)
	}
	if p == nil || diags.HasErrors() && (!o.Lenient || p.Train == nil && len(p.Stages) == 0) {
		return p, o.Resolver, diags
	}
	res := o.Resolver
	if res == nil {
		var err error
		if res, err = host.NewResolver(ctx, filepath.Dir(p.Path), false); err != nil {
			return p, nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid lock file", Detail: err.Error()})
		}
	}
	parsed := diags.HasErrors()
	diags = append(diags, p.Bind(describer(p, res))...)
	if parsed {
		diags = dedupe(diags)
	}
	return p, res, diags
}

// describer resolves a stage's plugin for pipeline.Bind.
func describer(p *pipeline.Pipeline, res *host.Resolver) pipeline.Describer {
	return func(name string) (sdk.Info, sdk.Schema, error) {
		b, err := res.Resolve(name, p.PluginSource(name))
		return b.Description.Info, b.Description.Schema, err
	}
}

// dedupe drops diagnostics repeated word for word at the same place (a
// lenient load reports a problem both parsing and binding may find).
func dedupe(diags hcl.Diagnostics) hcl.Diagnostics {
	seen := map[string]bool{}
	var out hcl.Diagnostics
	for _, d := range diags {
		key := d.Summary + "\x00" + d.Detail
		if d.Subject != nil {
			key += "\x00" + d.Subject.String()
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, d)
		}
	}
	return out
}
