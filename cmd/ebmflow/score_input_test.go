package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTruncatedInputsNamed: score's inputs cut short (a 10-byte file of
// each kind) are refused with what is wrong and where, never a bare
// "unexpected EOF".
func TestTruncatedInputsNamed(t *testing.T) {
	d := t.TempDir()
	for name, c := range map[string]struct {
		b    []byte
		want string
	}{
		"a.safetensors": {[]byte{0x40, 0, 0, 0, 0, 0, 0, 0, '{', ' '}, "header length 64 exceeds the 2 bytes that follow the length"},
		"b.idx":         {[]byte{0, 0, 8, 3, 0, 0, 0, 10, 0, 0}, "file too short for the 3 dimension sizes"},
		"c.png":         {[]byte("\x89PNG\r\n\x1a\n\x00\x00"), "the image ends early (10 bytes): a truncated file"},
	} {
		p := filepath.Join(d, name)
		if err := os.WriteFile(p, c.b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := readInput(p, []int{1, 28, 28})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
