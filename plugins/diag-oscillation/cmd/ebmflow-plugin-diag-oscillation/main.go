// Command ebmflow-plugin-diag-oscillation serves the diag-oscillation
// diagnostics plugin: d_st / r_t window statistics, oscillation classes, the
// 2x2 diagnostic figure and the 2-D density total variation. The ebmflow host
// starts it; see package oscillation for its attributes.
package main

import (
	"github.com/ebmflow/ebmflow/plugins/diag-oscillation/oscillation"
	"github.com/ebmflow/ebmflow/sdk/diagnostics"
)

func main() { diagnostics.Serve(oscillation.New()) }
