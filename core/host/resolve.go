package host

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

// Resolve finds each named plugin, hashes and describes it, and checks it
// against the lock file beside the pipeline: a pinned plugin whose hash
// changed is refused (unless upgrade is set, when the new hash is pinned); a
// plugin not yet pinned is pinned. The lock file is written when anything
// was pinned. Every problem is reported, not only the first.
func Resolve(ctx context.Context, names []string, pipelineDir, lockPath string, upgrade bool) (map[string]Binary, error) {
	lock, diags := ReadLock(lockPath)
	if diags.HasErrors() {
		return nil, fmt.Errorf("lock file: %s", diags.Error())
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	out := map[string]Binary{}
	var errs []error
	changed := false
	for _, name := range sorted {
		if _, done := out[name]; done {
			continue
		}
		path, err := Find(name, pipelineDir)
		if err != nil {
			errs = append(errs, fmt.Errorf("plugin %q: %w", name, err))
			continue
		}
		b := Binary{Name: name, Path: path}
		if b.SHA256, err = PluginSHA256(path); err != nil {
			errs = append(errs, fmt.Errorf("plugin %q: %w", name, err))
			continue
		}
		pinned, err := lock.Check(b)
		if err != nil && !upgrade {
			errs = append(errs, err)
			continue
		}
		if b.Description, err = DescribeBinary(ctx, path); err != nil {
			errs = append(errs, fmt.Errorf("plugin %q: %w", name, err))
			continue
		}
		if !pinned || err != nil || upgrade {
			if e, ok := lock.Plugins[name]; !ok || e.SHA256 != b.SHA256 || e.Version != b.Description.Info.Version {
				lock.Set(b)
				changed = true
			}
		}
		out[name] = b
	}
	if changed && len(errs) == 0 {
		if err := lock.Write(); err != nil {
			errs = append(errs, fmt.Errorf("write %s: %w", lockPath, err))
		}
	}
	return out, errors.Join(errs...)
}
