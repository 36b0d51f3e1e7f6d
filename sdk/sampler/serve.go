// Package sampler serves an ebmflow sampler plugin. A plugin binary's main is
//
//	func main() { sampler.Serve(mypkg.New()) }
package sampler

import (
	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/sdk"
)

// Serve runs p as an ebmflow sampler plugin process; it does not return. Started
// by hand, the binary prints one line saying what it is and exits 1; with
// the argument "describe" it prints its info and schema as JSON.
func Serve(p sdk.Sampler) { rpc.Serve(p) }
