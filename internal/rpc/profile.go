package rpc

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
)

// ProfileEnv names a folder: a plugin process started with it set writes a
// CPU profile of its whole life there, as NAME-PID.pprof, when the host
// shuts it down (not when it is killed). Plugins inherit the host's
// environment, so `EBMFLOW_CPUPROFILE=DIR ebmflow run ...` profiles every
// stage of a run; `go tool pprof DIR/NAME-PID.pprof` reads one.
const ProfileEnv = "EBMFLOW_CPUPROFILE"

// startProfile starts the CPU profile ProfileEnv asks for and returns the
// function that ends it; a profile that cannot be started is reported on
// stderr and the plugin runs on without one.
func startProfile(name string) func() {
	dir := os.Getenv(ProfileEnv)
	if dir == "" {
		return func() {}
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", name, os.Getpid()))
	f, err := os.Create(path)
	if err == nil {
		if err = pprof.StartCPUProfile(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "plugin %s: no CPU profile (%s): %v\n", name, ProfileEnv, err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "plugin %s: CPU profile %s: %v\n", name, path, err)
		}
	}
}
