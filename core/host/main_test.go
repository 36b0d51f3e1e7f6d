package host

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ebmflow/ebmflow/internal/testplugins"
)

// kitDir holds the test plugins, built once for the package's tests.
var kitDir string

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		hostHelper()
		return
	}
	dir, err := os.MkdirTemp("", "ebmflow-host-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := testplugins.Build(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	kitDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func kitBinary(t testing.TB, kind string) Binary {
	t.Helper()
	p := filepath.Join(kitDir, BinaryPrefix+kind)
	sum, err := FileSHA256(p)
	if err != nil {
		t.Fatal(err)
	}
	return Binary{Name: kind, Path: p, SHA256: sum}
}
