// Package data serves an ebmflow data plugin. A plugin binary's main is
//
//	func main() { data.Serve(mypkg.New()) }
package data

import (
	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/sdk"
)

// Serve runs p as an ebmflow data plugin process; it does not return. Started
// by hand, the binary prints one line saying what it is and exits 1; with
// the argument "describe" it prints its info and schema as JSON.
func Serve(p sdk.Data) { rpc.Serve(p) }
