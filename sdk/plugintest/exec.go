package plugintest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ebmflow/ebmflow/core/host"
)

// execPrefix marks a Suite.Package or Link.Package that names a plugin
// executable rather than a Go package.
const execPrefix = "exec:"

// Executable returns the Suite.Package (or Link.Package) value that checks
// the plugin executable at path as it is, in any language (a Python script
// such as examples/torch-energy/ebmflow-plugin-torch-energy, or a binary
// built elsewhere), instead of building a Go package. A relative path is
// taken from the calling test's folder. The executable runs in place, so
// a script finds its own files beside it; it is pinned as ebmflow pins it
// (host.PluginSHA256).
func Executable(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return execPrefix + path
}

// prebuilt returns the executable a Package made by Executable names,
// described and hashed; ok is false for a Go package. With name set, the
// executable is reached through a link named ebmflow-plugin-name in dir.
func prebuilt(dir, pkg, name string) (b Built, ok bool, err error) {
	path, ok := strings.CutPrefix(pkg, execPrefix)
	if !ok {
		return Built{}, false, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return Built{}, true, fmt.Errorf("plugin executable: %w", err)
	}
	if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		return Built{}, true, fmt.Errorf("plugin executable %s is not an executable file", path)
	}
	d, err := host.DescribeBinary(context.Background(), path)
	if err != nil {
		return Built{}, true, err
	}
	if name == "" {
		name = d.Info.Name
		if want := host.BinaryPrefix + name; filepath.Base(path) != want {
			return Built{}, true, fmt.Errorf("plugin executable %s describes itself as %q, so it must be named %s", path, name, want)
		}
	} else if filepath.Base(path) != host.BinaryPrefix+name {
		link := filepath.Join(dir, host.BinaryPrefix+name)
		if err := os.Symlink(path, link); err != nil {
			return Built{}, true, err
		}
		path = link
	}
	sum, err := host.PluginSHA256(path)
	if err != nil {
		return Built{}, true, err
	}
	return Built{Name: name, Path: path, SHA256: sum, Info: d.Info, Schema: d.Schema,
		bin: host.Binary{Name: name, Path: path, SHA256: sum, Description: d}}, true, nil
}
