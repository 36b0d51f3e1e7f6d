// Package sdk is what every ebmflow plugin, built-in or third-party, imports.
//
// A plugin is a separate process that serves one stage of a pipeline over
// hashicorp/go-plugin's gRPC transport. It implements one of four kinds:
//
//   - Energy: the energy F(x; theta), its input gradient dF/dx and the
//     maximum-likelihood update of theta.
//   - Sampler: draws negative samples, calling an energy stage through a
//     connection the host brokers.
//   - Data: positive samples (with data noise), and for toy sets the true
//     log-density.
//   - Problems: watches per-iteration records and writes reports and figures.
//
// Every kind embeds the Base contract: Info, Schema, Configure, SaveState and
// LoadState; a plugin with large state also implements StateSaver and
// StateLoader, and its state then streams between its own memory and the
// checkpoint's files without a second copy (state.go). A plugin's main function is one call to the Serve function of
// its kind's package (sdk/energy, sdk/sampler, sdk/data, sdk/diagnostics):
//
//	import "github.com/ebmflow/ebmflow/sdk/sampler"
//
//	func main() { sampler.Serve(langevin.New()) }
//
// Tensors are *Tensor values (float32 or float64, row-major, batch first). They
// cross process boundaries in chunks of at most 1 MiB; shapes, dtypes and byte
// lengths are checked on arrival. The generated protobuf types never appear in
// this package's API.
package sdk
