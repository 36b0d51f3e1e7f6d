// Command ebmflow-plugin-quadratic serves the quadratic test energy
// F(x) = (a/2)|x - mu|^2 for integration tests; see package quadratic.
package main

import (
	"github.com/ebmflow/ebmflow/plugins/sampler-langevin/internal/quadratic"
	"github.com/ebmflow/ebmflow/sdk/energy"
)

func main() { energy.Serve(quadratic.New()) }
