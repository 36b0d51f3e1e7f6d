// Package safetensors reads and writes tensors in the safetensors format, the
// checkpoint format of ebmflow and of the Hugging Face safetensors library.
//
// A file is
//
//	N          8 bytes, unsigned little-endian: the length of the header
//	header     N bytes of UTF-8 JSON, padded at the end with spaces (0x20)
//	data       the tensor bytes, little-endian, row-major
//
// The header is one JSON object. Each key is a tensor name, mapped to
//
//	{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}
//
// where begin and end are byte offsets relative to the start of the data
// section, end - begin = (product of shape) * (size of dtype), and a scalar
// has shape []. The optional key "__metadata__" maps to an object of string
// values. Only the dtypes F32 and F64 (sdk.Float32 and sdk.Float64) are
// supported; F16, BF16, the integer types and the others that the format
// defines are refused with an error naming the tensor and the dtype.
//
// Write lays the tensors out contiguously in the order of their sorted names,
// writes "__metadata__" (when there is any) first in the header, encodes the
// JSON without spaces and pads the header to a multiple of 8 bytes, as the
// reference (Rust) implementation does. For tensors of one dtype the output is
// byte for byte what the Python library writes (the test pins that for
// {"a": F32 [1, 2]}); recent versions of the library lay mixed dtypes out by
// alignment first, which Read accepts as well.
//
// Read accepts what the reference implementation accepts: the tensors must
// cover the data section exactly, without gaps or overlaps, in any order of
// names. Every malformed input yields an error that names the tensor and
// what is wrong; ReadFile adds the file name. Read never allocates more than
// the input actually holds, whatever the header claims.
package safetensors
