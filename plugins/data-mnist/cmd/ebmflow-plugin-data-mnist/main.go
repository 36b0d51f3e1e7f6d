// Command ebmflow-plugin-data-mnist serves the data-mnist plugin: MNIST
// positives (verified IDX files, [-1, 1] pixels, 28 or 32 pixels, data
// noise) and the 2-D toy sets gmm and rings. The ebmflow host starts it; see
// package mnist for its attributes.
package main

import (
	"github.com/ebmflow/ebmflow/plugins/data-mnist/mnist"
	"github.com/ebmflow/ebmflow/sdk/data"
)

func main() { data.Serve(mnist.New()) }
