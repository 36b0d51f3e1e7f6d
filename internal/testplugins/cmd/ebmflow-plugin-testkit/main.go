// Command ebmflow-plugin-testkit serves the test plugins of package
// testplugins; the kind comes from the name it is started under.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ebmflow/ebmflow/internal/testplugins"
	"github.com/ebmflow/ebmflow/sdk/data"
	"github.com/ebmflow/ebmflow/sdk/diagnostics"
	"github.com/ebmflow/ebmflow/sdk/energy"
	"github.com/ebmflow/ebmflow/sdk/sampler"
)

func main() {
	switch name := strings.TrimPrefix(filepath.Base(os.Args[0]), "ebmflow-plugin-"); name {
	case "testenergy":
		energy.Serve(testplugins.NewQuadratic())
	case "testsampler":
		sampler.Serve(testplugins.NewLangevin())
	case "testdata":
		data.Serve(testplugins.NewGaussian())
	case "testdiag":
		diagnostics.Serve(testplugins.NewRecorder())
	default:
		fmt.Fprintf(os.Stderr, "ebmflow-plugin-testkit: started as %q; copy it as ebmflow-plugin-test{energy,sampler,data,diag}\n", name)
		os.Exit(1)
	}
}
