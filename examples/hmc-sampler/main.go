// Command ebmflow-plugin-hmc-sampler is an ebmflow sampler plugin that lives
// outside the ebmflow repository's package tree, in its own Go module: a
// Hamiltonian Monte Carlo sampler that draws from exp(-F(x)/temperature),
// calling a linked energy stage for F and dF/dx.
//
//	stage "sampler" {
//	  plugin      = "hmc-sampler"
//	  energy      = stage.energy
//	  steps       = 20
//	  leapfrog    = 5
//	  step_size   = 0.1
//	  temperature = 1
//	}
package main

import "github.com/ebmflow/ebmflow/sdk/sampler"

func main() { sampler.Serve(New()) }
