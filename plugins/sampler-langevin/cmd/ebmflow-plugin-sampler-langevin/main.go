// Command ebmflow-plugin-sampler-langevin serves the sampler-langevin plugin:
// Langevin and MALA sampling with noise, data and persistent initialisation.
// The ebmflow host starts it; see package langevin for its attributes.
package main

import (
	"github.com/ebmflow/ebmflow/plugins/sampler-langevin/langevin"
	"github.com/ebmflow/ebmflow/sdk/sampler"
)

func main() { sampler.Serve(langevin.New()) }
