package idx

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
)

// rawIDX builds an unsigned-byte IDX file with the given dimensions; the
// data bytes are i%251 so that corruption shows.
func rawIDX(dims ...int) []byte {
	var buf bytes.Buffer
	buf.Write([]byte{0, 0, typeUbyte, byte(len(dims))})
	n := 1
	for _, d := range dims {
		_ = binary.Write(&buf, binary.BigEndian, uint32(d))
		n *= d
	}
	for i := range n {
		buf.WriteByte(byte(i % 251))
	}
	return buf.Bytes()
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
