package safetensors

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"syscall"
	"unicode/utf8"

	"github.com/ebmflow/ebmflow/sdk"
)

// metadataKey is the header key that holds the free-form string metadata.
const metadataKey = "__metadata__"

// chunk is the number of data bytes encoded or decoded at a time.
const chunk = 64 << 10

// Write writes tensors and the optional string metadata meta to w in the
// safetensors format. Every tensor must be valid (sdk.Tensor.Validate); names
// must be valid UTF-8 and must not be "__metadata__".
func Write(w io.Writer, tensors map[string]*sdk.Tensor, meta map[string]string) error {
	if err := write(w, tensors, meta); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}

func write(w io.Writer, tensors map[string]*sdk.Tensor, meta map[string]string) error {
	header, names, err := encodeHeader(tensors, meta)
	if err != nil {
		return err
	}
	var total int
	for _, name := range names {
		total += tensors[name].Len() * tensors[name].DType.Size()
	}
	bw := bufio.NewWriterSize(w, min(chunk, 8+len(header)+total))
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	if _, err := bw.Write(n[:]); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	if _, err := bw.Write(header); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	buf := make([]byte, 0, min(chunk, max(total, 8)))
	for _, name := range names {
		t := tensors[name]
		switch t.DType {
		case sdk.Float32:
			for i := 0; i < len(t.F32); {
				buf = buf[:0]
				for ; i < len(t.F32) && len(buf) < cap(buf); i++ {
					buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(t.F32[i]))
				}
				if _, err := bw.Write(buf); err != nil {
					return fmt.Errorf("write tensor %q: %w", name, err)
				}
			}
		case sdk.Float64:
			for i := 0; i < len(t.F64); {
				buf = buf[:0]
				for ; i < len(t.F64) && len(buf) < cap(buf); i++ {
					buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(t.F64[i]))
				}
				if _, err := bw.Write(buf); err != nil {
					return fmt.Errorf("write tensor %q: %w", name, err)
				}
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// encodeHeader returns the padded JSON header and the sorted tensor names.
func encodeHeader(tensors map[string]*sdk.Tensor, meta map[string]string) ([]byte, []string, error) {
	names := make([]string, 0, len(tensors))
	for name, t := range tensors {
		if name == metadataKey {
			return nil, nil, fmt.Errorf("tensor name %q is reserved", name)
		}
		if !utf8.ValidString(name) {
			return nil, nil, fmt.Errorf("tensor name %q is not valid UTF-8", name)
		}
		if err := t.Validate(); err != nil {
			return nil, nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	entries := make([]entry, len(names))
	var offset int64
	for i, name := range names {
		t := tensors[name]
		size := int64(t.Len()) * int64(t.DType.Size())
		entries[i] = entry{name: name, dtype: t.DType, shape: t.Shape, begin: offset, end: offset + size}
		offset += size
	}
	h, err := headerOf(entries, meta)
	if err != nil {
		return nil, nil, err
	}
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	return h, names, nil
}

// headerOf returns the JSON header (unpadded) of entries, listed in the
// order of their names with their own offsets, and the metadata first.
func headerOf(entries []entry, meta map[string]string) ([]byte, error) {
	sorted := slices.Clone(entries)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	h := []byte{'{'}
	if len(meta) > 0 {
		keys := make([]string, 0, len(meta))
		for k, v := range meta {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return nil, fmt.Errorf("metadata %q: not valid UTF-8", k)
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		h = appendString(h, metadataKey)
		h = append(h, ':', '{')
		for i, k := range keys {
			if i > 0 {
				h = append(h, ',')
			}
			h = appendString(h, k)
			h = append(h, ':')
			h = appendString(h, meta[k])
		}
		h = append(h, '}')
	}
	for i, e := range sorted {
		if i > 0 || len(meta) > 0 {
			h = append(h, ',')
		}
		h = appendString(h, e.name)
		h = append(h, `:{"dtype":"`...)
		if e.dtype == sdk.Float32 {
			h = append(h, "F32"...)
		} else {
			h = append(h, "F64"...)
		}
		h = append(h, `","shape":[`...)
		for j, d := range e.shape {
			if j > 0 {
				h = append(h, ',')
			}
			h = strconv.AppendInt(h, int64(d), 10)
		}
		h = append(h, `],"data_offsets":[`...)
		h = strconv.AppendUint(h, uint64(e.begin), 10)
		h = append(h, ',')
		h = strconv.AppendUint(h, uint64(e.end), 10)
		h = append(h, ']', '}')
	}
	return append(h, '}'), nil
}

// appendString appends s as a JSON string, escaped as serde_json escapes it:
// only '"', '\\' and control characters, so that non-ASCII names stay UTF-8.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\b':
			dst = append(dst, '\\', 'b')
		case c == '\f':
			dst = append(dst, '\\', 'f')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// WriteFile writes the tensors and metadata to path atomically: into a
// temporary file in the same folder, which is synced, closed and renamed over
// path; then the folder is synced. Readers see the old file or the complete
// new one, never a partial file.
func WriteFile(path string, tensors map[string]*sdk.Tensor, meta map[string]string) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("safetensors: write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = write(f, tensors, meta); err != nil {
		return fmt.Errorf("safetensors: write %s: %w", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("safetensors: write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("safetensors: write %s: sync: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("safetensors: write %s: close: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("safetensors: write %s: %w", path, err)
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable. File systems that cannot sync a
// folder (EINVAL) are tolerated.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("safetensors: sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("safetensors: sync %s: %w", dir, err)
	}
	return nil
}
