package sdk

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestAtomicWrite: the file appears complete with its mode; a failed write
// leaves the old file and no temporary file behind.
func TestAtomicWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	if err := WriteFileAtomic(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := AtomicWrite(path, 0o644, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	b, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if string(b) != "old" || fi.Mode().Perm() != 0o600 {
		t.Fatalf("after a failed write: %q, mode %v", b, fi.Mode())
	}
	if err := WriteFileAtomic(path, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(path)
	fi, _ = os.Stat(path)
	if string(b) != "new" || fi.Mode().Perm() != 0o644 {
		t.Fatalf("after a write: %q, mode %v", b, fi.Mode())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("%d files in the folder, want 1", len(ents))
	}
	if err := WriteFileAtomic(filepath.Join(dir, "no", "such"), nil, 0o644); err == nil {
		t.Fatal("a write into a missing folder succeeded")
	}
}
