// Package energy serves an ebmflow energy plugin. A plugin binary's main is
//
//	func main() { energy.Serve(mypkg.New()) }
package energy

import (
	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/sdk"
)

// Serve runs p as an ebmflow energy plugin process; it does not return. Started
// by hand, the binary prints one line saying what it is and exits 1; with
// the argument "describe" it prints its info and schema as JSON.
func Serve(p sdk.Energy) { rpc.Serve(p) }
