package host

import (
	"fmt"
	"maps"
	"os"
	"slices"

	"github.com/ebmflow/ebmflow/sdk"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// LockFileName is the lock file's name, beside the pipeline file.
const LockFileName = "ebmflow.lock.hcl"

// LockEntry pins one plugin binary.
type LockEntry struct {
	Name     string `hcl:"name,label"`
	Version  string `hcl:"version"`
	Protocol int    `hcl:"protocol"`
	SHA256   string `hcl:"sha256"`
}

// Lock is the content of a lock file.
type Lock struct {
	Path    string
	Plugins map[string]LockEntry
	run     bool // the pins of a run's manifest, not a lock file
}

// ErrLockMismatch reports a plugin binary whose hash differs from its pin.
type ErrLockMismatch struct {
	Plugin, Path, Locked, Found, LockPath string
	// Run says that the pin is a run's manifest: the run was made with
	// another binary.
	Run bool
}

func (e *ErrLockMismatch) Error() string {
	if e.Run {
		return fmt.Sprintf("plugin %q: %s has sha256 %s but %s records sha256 %s; a run continues only with the binaries it was made with (a changed binary would not give the same numbers): put that binary back, or start a new run",
			e.Plugin, e.Path, e.Found, e.LockPath, e.Locked)
	}
	return fmt.Sprintf("plugin %q: %s has sha256 %s but %s pins sha256 %s; if the change is intended, run 'ebmflow init -upgrade' on the pipeline",
		e.Plugin, e.Path, e.Found, e.LockPath, e.Locked)
}

// ReadLock reads the lock file at path; a missing file is an empty lock.
func ReadLock(path string) (*Lock, hcl.Diagnostics) {
	l := &Lock{Path: path, Plugins: map[string]LockEntry{}}
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return l, nil
	}
	f, diags := hclparse.NewParser().ParseHCLFile(path)
	if diags.HasErrors() {
		return l, diags
	}
	var body struct {
		Plugins []LockEntry `hcl:"plugin,block"`
	}
	diags = gohcl.DecodeBody(f.Body, nil, &body)
	for _, e := range body.Plugins {
		l.Plugins[e.Name] = e
	}
	return l, diags
}

// Check compares a found binary with its pin. It returns (false, nil) when
// the plugin is not pinned yet.
func (l *Lock) Check(b Binary) (pinned bool, err error) {
	e, ok := l.Plugins[b.Name]
	if !ok {
		return false, nil
	}
	if e.SHA256 != b.SHA256 {
		return true, &ErrLockMismatch{Plugin: b.Name, Path: b.Path, Locked: e.SHA256, Found: b.SHA256, LockPath: l.Path, Run: l.run}
	}
	return true, nil
}

// Set pins a binary.
func (l *Lock) Set(b Binary) {
	l.Plugins[b.Name] = LockEntry{Name: b.Name, Version: b.Description.Info.Version, Protocol: b.Description.Info.Protocol, SHA256: b.SHA256}
}

// Write writes the lock file atomically.
func (l *Lock) Write() error {
	f := hclwrite.NewEmptyFile()
	root := f.Body()
	root.AppendUnstructuredTokens(hclwrite.Tokens{{Type: 0, Bytes: []byte("# This file is maintained by ebmflow. It pins the plugin binaries this\n# pipeline runs with; 'ebmflow init -upgrade PIPELINE' accepts changed ones.\n")}})
	names := slices.Sorted(maps.Keys(l.Plugins))
	for _, n := range names {
		e := l.Plugins[n]
		root.AppendNewline()
		b := root.AppendNewBlock("plugin", []string{n}).Body()
		b.SetAttributeValue("version", cty.StringVal(e.Version))
		b.SetAttributeValue("protocol", cty.NumberIntVal(int64(e.Protocol)))
		b.SetAttributeValue("sha256", cty.StringVal(e.SHA256))
	}
	return sdk.WriteFileAtomic(l.Path, f.Bytes(), 0o644)
}
