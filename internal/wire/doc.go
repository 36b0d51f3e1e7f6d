// Package wire moves tensors and request messages across a plugin process
// boundary as a stream of pb.Frame messages.
//
// A message is one frame whose meta holds the serialized request or response,
// followed by zero or more tensors. Each tensor starts with a chunk whose start
// flag is set and whose header gives name, dtype, shape and byte length; its
// little-endian data follows in chunks of at most ChunkSize bytes. The Decoder
// checks every header before allocating: known dtype, non-negative dimensions,
// byte length equal to the shape's, a size no larger than its limit; then it
// checks that the data arrives exactly (no overflow, no truncation).
package wire
