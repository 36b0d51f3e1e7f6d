//go:build !unix

package convnet

import "time"

// processCPU reports that the process's CPU time is not available here;
// the benchmarks then leave out their cpu-ms/op metric.
func processCPU() (time.Duration, bool) { return 0, false }
