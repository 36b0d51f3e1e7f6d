package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/ebmflow/ebmflow/sdk"
)

// Version is ebmflow's version.
const Version = "0.1.0-dev"

type versionCommand struct{ ui }

func (c *versionCommand) Synopsis() string { return "Print ebmflow's version" }
func (c *versionCommand) Help() string {
	return "Usage: ebmflow version\n\n  Prints the version, the plugin protocol, the VCS revision and the Go toolchain.\n"
}

func (c *versionCommand) Run(args []string) int {
	if len(args) > 0 {
		fmt.Fprint(c.err, c.Help())
		return exitInvalid
	}
	fmt.Fprintf(c.out, "ebmflow %s (plugin protocol %d, %s, %s %s/%s)\n", Version, sdk.ProtocolVersion, vcsRevision(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}

// vcsRevision returns the VCS revision the binary was built from, if known.
func vcsRevision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "revision unknown"
	}
	rev, dirty := "", ""
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return "revision unknown"
	}
	return "revision " + rev + dirty
}
