// Command ebmflow-plugin-energy-convnet serves the energy-convnet plugin: a
// ConvNet (VanillaNet) or 2-D MLP energy on gorgonia. The ebmflow host starts
// it; see package convnet for its attributes.
package main

import (
	"github.com/ebmflow/ebmflow/plugins/energy-convnet/convnet"
	"github.com/ebmflow/ebmflow/sdk/energy"
)

func main() { energy.Serve(convnet.New()) }
