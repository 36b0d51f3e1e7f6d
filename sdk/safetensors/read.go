package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"unicode/utf8"

	"github.com/ebmflow/ebmflow/sdk"
)

// MaxHeaderSize is the largest header Read accepts, in bytes; the reference
// implementation has the same limit.
const MaxHeaderSize = 100 << 20

// ErrFormat is wrapped by every error that reports a malformed file.
var ErrFormat = errors.New("malformed safetensors data")

// ErrDType is wrapped by the error for a tensor whose dtype is valid in the
// format but not supported by ebmflow (anything but F32 and F64).
var ErrDType = errors.New("unsupported dtype")

// knownDTypes are the other dtypes the format defines, refused with ErrDType.
var knownDTypes = map[string]bool{
	"BOOL": true, "U8": true, "I8": true, "F8_E5M2": true, "F8_E4M3": true,
	"F8_E8M0": true, "F4": true, "F6_E2M3": true, "F6_E3M2": true,
	"I16": true, "U16": true, "F16": true, "BF16": true, "I32": true,
	"U32": true, "I64": true, "U64": true, "C64": true,
}

// entry is one tensor of a header.
type entry struct {
	name       string
	dtype      sdk.DType
	shape      []int
	numel      int
	begin, end int64
}

// Read reads tensors and metadata in the safetensors format from r. If limit
// is positive, the input must not be longer than limit bytes; a header that
// claims more is refused before anything is allocated for it, and tensors are
// allocated at their full size up front. With limit <= 0 tensors grow as their
// bytes arrive, so memory stays bounded by what r actually yields. Read
// consumes r to its end: bytes after the last tensor are an error, as in the
// reference implementation. The metadata map is nil when the header has none.
func Read(r io.Reader, limit int64) (map[string]*sdk.Tensor, map[string]string, error) {
	ts, meta, err := read(r, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	return ts, meta, nil
}

// ReadFile reads the safetensors file at path. Errors name the file.
func ReadFile(path string) (map[string]*sdk.Tensor, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	limit := st.Size()
	if !st.Mode().IsRegular() {
		limit = 0
	}
	ts, meta, err := read(f, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: read %s: %w", path, err)
	}
	return ts, meta, nil
}

func read(r io.Reader, limit int64) (map[string]*sdk.Tensor, map[string]string, error) {
	var nb [8]byte
	if k, err := io.ReadFull(r, nb[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, nil, fmt.Errorf("%w: %d bytes, too short for the 8-byte header length", ErrFormat, k)
		}
		return nil, nil, err
	}
	n := binary.LittleEndian.Uint64(nb[:])
	if n > MaxHeaderSize {
		return nil, nil, fmt.Errorf("%w: header length %d exceeds the maximum of %d bytes", ErrFormat, n, MaxHeaderSize)
	}
	if limit > 0 && int64(n) > limit-8 {
		return nil, nil, fmt.Errorf("%w: header length %d exceeds the %d bytes that follow the length", ErrFormat, n, max(limit-8, 0))
	}
	header, err := io.ReadAll(io.LimitReader(r, int64(n)))
	if err != nil {
		return nil, nil, err
	}
	if uint64(len(header)) < n {
		return nil, nil, fmt.Errorf("%w: header truncated: %d of %d bytes", ErrFormat, len(header), n)
	}
	entries, meta, err := parseHeader(header)
	if err != nil {
		return nil, nil, err
	}
	pos, err := layout(entries, limit, int64(n))
	if err != nil {
		return nil, nil, err
	}

	tensors := make(map[string]*sdk.Tensor, len(entries))
	buf := make([]byte, min(chunk, max(pos, 8)))
	for _, e := range entries {
		t, err := readTensor(r, e, buf, limit > 0)
		if err != nil {
			return nil, nil, err
		}
		tensors[e.name] = t
	}
	if k, _ := io.ReadFull(r, buf[:1]); k > 0 {
		return nil, nil, fmt.Errorf("%w: bytes follow the end of the last tensor at data offset %d", ErrFormat, pos)
	}
	return tensors, meta, nil
}

// layout sorts entries by offset and checks that they tile the data
// section: each one begins where the previous one ends, and, with a
// positive limit (the input's length), none lies beyond it. It returns the
// section's length.
func layout(entries []entry, limit, n int64) (int64, error) {
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].begin != entries[j].begin {
			return entries[i].begin < entries[j].begin
		}
		return entries[i].end < entries[j].end
	})
	var pos int64
	for i, e := range entries {
		if e.begin < pos {
			return 0, fmt.Errorf("%w: tensor %q: data_offsets [%d, %d] overlap tensor %q, which ends at %d", ErrFormat, e.name, e.begin, e.end, entries[i-1].name, pos)
		}
		if e.begin > pos {
			return 0, fmt.Errorf("%w: tensor %q: data_offsets [%d, %d] leave a gap: the previous tensor ends at %d", ErrFormat, e.name, e.begin, e.end, pos)
		}
		if limit > 0 && e.end > limit-8-n {
			return 0, fmt.Errorf("%w: tensor %q: data_offsets [%d, %d] lie beyond the end of the data section (%d bytes)", ErrFormat, e.name, e.begin, e.end, limit-8-n)
		}
		pos = e.end
	}
	return pos, nil
}

// readTensor reads the bytes of e from r. Unless exact is set, the values
// grow chunk by chunk as they arrive rather than being allocated up front.
func readTensor(r io.Reader, e entry, buf []byte, exact bool) (*sdk.Tensor, error) {
	t := &sdk.Tensor{DType: e.dtype, Shape: e.shape}
	size := e.dtype.Size()
	capacity := e.numel
	if !exact {
		capacity = min(capacity, chunk/size)
	}
	if e.dtype == sdk.Float32 {
		t.F32 = make([]float32, 0, capacity)
	} else {
		t.F64 = make([]float64, 0, capacity)
	}
	for left := e.end - e.begin; left > 0; {
		m := int(min(left, int64(len(buf))))
		if k, err := io.ReadFull(r, buf[:m]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				got := e.end - left + int64(k)
				return nil, fmt.Errorf("%w: tensor %q: data truncated: the input ends at data offset %d, data_offsets are [%d, %d]", ErrFormat, e.name, got, e.begin, e.end)
			}
			return nil, fmt.Errorf("tensor %q: %w", e.name, err)
		}
		left -= int64(m)
		if e.dtype == sdk.Float32 {
			for i := 0; i < m; i += 4 {
				t.F32 = append(t.F32, math.Float32frombits(binary.LittleEndian.Uint32(buf[i:])))
			}
		} else {
			for i := 0; i < m; i += 8 {
				t.F64 = append(t.F64, math.Float64frombits(binary.LittleEndian.Uint64(buf[i:])))
			}
		}
	}
	return t, nil
}

// headerInfo is a tensor's entry as it appears in the JSON header. Pointers
// tell a missing field from a zero one.
type headerInfo struct {
	DType       *string  `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// parseHeader decodes and checks the JSON header, in file order.
func parseHeader(header []byte) ([]entry, map[string]string, error) {
	if !utf8.Valid(header) {
		return nil, nil, fmt.Errorf("%w: header is not valid UTF-8", ErrFormat)
	}
	if len(header) == 0 || header[0] != '{' {
		return nil, nil, fmt.Errorf("%w: header does not start with '{'", ErrFormat)
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("%w: header: %v", ErrFormat, err)
	}
	var (
		entries []entry
		meta    map[string]string
		seen    = map[string]bool{}
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("%w: header: %v", ErrFormat, err)
		}
		name, _ := tok.(string)
		if seen[name] {
			return nil, nil, fmt.Errorf("%w: header: key %q appears twice", ErrFormat, name)
		}
		seen[name] = true
		if name == metadataKey {
			if err := dec.Decode(&meta); err != nil {
				return nil, nil, fmt.Errorf("%w: header: %s must be an object of strings: %v", ErrFormat, metadataKey, err)
			}
			continue
		}
		var info headerInfo
		if err := dec.Decode(&info); err != nil {
			return nil, nil, fmt.Errorf("%w: tensor %q: %v", ErrFormat, name, err)
		}
		e, err := checkInfo(name, info)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("%w: header: %v", ErrFormat, err)
	}
	rest := header[dec.InputOffset():]
	if len(bytes.Trim(rest, " \t\r\n")) != 0 {
		return nil, nil, fmt.Errorf("%w: header: data after the JSON object", ErrFormat)
	}
	return entries, meta, nil
}

// checkInfo validates one tensor's header entry.
func checkInfo(name string, info headerInfo) (entry, error) {
	e := entry{name: name}
	switch {
	case info.DType == nil:
		return e, fmt.Errorf("%w: tensor %q: no dtype", ErrFormat, name)
	case info.Shape == nil:
		return e, fmt.Errorf("%w: tensor %q: no shape", ErrFormat, name)
	case info.DataOffsets == nil:
		return e, fmt.Errorf("%w: tensor %q: no data_offsets", ErrFormat, name)
	}
	switch dt := *info.DType; dt {
	case "F32":
		e.dtype = sdk.Float32
	case "F64":
		e.dtype = sdk.Float64
	default:
		if knownDTypes[dt] {
			return e, fmt.Errorf("%w: tensor %q: dtype %s is not supported (only F32 and F64 are)", ErrDType, name, dt)
		}
		return e, fmt.Errorf("%w: tensor %q: unknown dtype %q", ErrFormat, name, dt)
	}
	size := int64(e.dtype.Size())

	shape := *info.Shape
	numel := int64(1)
	e.shape = make([]int, len(shape))
	for i, d := range shape {
		if d < 0 {
			return e, fmt.Errorf("%w: tensor %q: negative dimension %d in shape %v", ErrFormat, name, d, shape)
		}
		if d > math.MaxInt {
			return e, fmt.Errorf("%w: tensor %q: dimension %d in shape %v is too large", ErrFormat, name, d, shape)
		}
		e.shape[i] = int(d)
	}
	for _, d := range shape {
		if d == 0 {
			numel = 0
			break
		}
		if numel > math.MaxInt64/size/d {
			return e, fmt.Errorf("%w: tensor %q: shape %v has too many elements", ErrFormat, name, shape)
		}
		numel *= d
	}
	if numel > math.MaxInt {
		return e, fmt.Errorf("%w: tensor %q: shape %v has too many elements", ErrFormat, name, shape)
	}
	e.numel = int(numel)

	off := *info.DataOffsets
	if len(off) != 2 {
		return e, fmt.Errorf("%w: tensor %q: data_offsets has %d values, want 2", ErrFormat, name, len(off))
	}
	e.begin, e.end = off[0], off[1]
	if e.begin < 0 || e.end < e.begin {
		return e, fmt.Errorf("%w: tensor %q: invalid data_offsets [%d, %d]", ErrFormat, name, e.begin, e.end)
	}
	if e.end-e.begin != numel*size {
		return e, fmt.Errorf("%w: tensor %q: data_offsets [%d, %d] span %d bytes, but %s shape %v needs %d", ErrFormat, name, e.begin, e.end, e.end-e.begin, *info.DType, shape, numel*size)
	}
	return e, nil
}
