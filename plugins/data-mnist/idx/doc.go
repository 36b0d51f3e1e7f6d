// Package idx reads the IDX format of the MNIST distribution, raw or gzipped.
//
// An IDX file is a big-endian header followed by the data:
//
//	bytes 0-1   zero
//	byte  2     element type (0x08 = unsigned byte, the only type MNIST uses)
//	byte  3     number of dimensions d
//	bytes 4..   d dimension sizes, 4 bytes each
//	then        prod(dims) elements
//
// so the magic number of an MNIST image file is 0x00000803 (three dimensions:
// count, rows, columns) and that of a label file is 0x00000801.
//
// The parser distrusts its input. Every problem (a truncated file, a wrong
// magic number, dimensions that disagree with the file size, a corrupt gzip
// stream, image and label counts that disagree) is an *Error naming the file
// and the byte offset, never a panic. Sizes claimed by a header are checked
// against what the file can hold before anything is allocated: for a raw file
// the exact length, for a gzipped one the most deflate can expand the
// compressed bytes (1032:1) and a hard cap (Limit).
package idx
