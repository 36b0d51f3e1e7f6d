// Package diagnostics serves an ebmflow diagnostics plugin. A plugin binary's main is
//
//	func main() { diagnostics.Serve(mypkg.New()) }
package diagnostics

import (
	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/sdk"
)

// Serve runs p as an ebmflow diagnostics plugin process; it does not return. Started
// by hand, the binary prints one line saying what it is and exits 1; with
// the argument "describe" it prints its info and schema as JSON.
func Serve(p sdk.Diagnoser) { rpc.Serve(p) }
