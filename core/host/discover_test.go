package host

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/sdk"
)

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestFindOrder(t *testing.T) {
	root := t.TempDir()
	pipeDir := filepath.Join(root, "pipe")
	envDir := filepath.Join(root, "env")
	pathDir := filepath.Join(root, "path")
	src := filepath.Join(kitDir, BinaryPrefix+"testdata")
	copyFile(t, src, filepath.Join(pathDir, BinaryPrefix+"testdata"))
	t.Setenv("PATH", pathDir)
	t.Setenv(PathEnv, envDir)
	if p, err := Find("testdata", pipeDir); err != nil || p != filepath.Join(pathDir, BinaryPrefix+"testdata") {
		t.Fatalf("PATH: %v %v", p, err)
	}
	copyFile(t, src, filepath.Join(envDir, BinaryPrefix+"testdata"))
	if p, _ := Find("testdata", pipeDir); p != filepath.Join(envDir, BinaryPrefix+"testdata") {
		t.Fatalf("EBMFLOW_PLUGIN_PATH not preferred to PATH: %v", p)
	}
	copyFile(t, src, filepath.Join(pipeDir, "plugins", BinaryPrefix+"testdata"))
	if p, _ := Find("testdata", pipeDir); p != filepath.Join(pipeDir, "plugins", BinaryPrefix+"testdata") {
		t.Fatalf("pipeline plugins/ not preferred: %v", p)
	}
	_, err := Find("nonesuch", pipeDir)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "ebmflow-plugin-nonesuch") || !strings.Contains(err.Error(), envDir) {
		t.Fatalf("missing plugin: %v", err)
	}
	bins := List(context.Background(), pipeDir)
	if len(bins) != 1 || bins[0].Description.Info.Kind != sdk.KindData || len(bins[0].SHA256) != 64 {
		t.Fatalf("list = %+v", bins)
	}
}

func TestHandStartedPluginSaysWhatItIs(t *testing.T) {
	bin := filepath.Join(kitDir, BinaryPrefix+"testsampler")
	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "is an ebmflow sampler plugin") {
		t.Fatalf("output: %q", out)
	}
	d, err := DescribeBinary(context.Background(), bin)
	if err != nil || d.Info.Name != "testsampler" || d.Info.Protocol != sdk.ProtocolVersion {
		t.Fatalf("describe = %+v, %v", d, err)
	}
	if a, ok := d.Schema.Lookup("energy"); !ok || a.Type.RefKind() != sdk.KindEnergy || !a.Required {
		t.Fatalf("schema energy attribute = %+v", a)
	}
}

func TestNotAPluginRefused(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, BinaryPrefix+"bogus")
	os.WriteFile(script, []byte("#!/bin/sh\necho hello from a shell script\n"), 0o755)
	h, _ := newTestHost(t, Options{})
	_, err := h.Start(context.Background(), "s", Binary{Name: "bogus", Path: script})
	if err == nil || !strings.Contains(err.Error(), `plugin "bogus"`) || !strings.Contains(err.Error(), "is it an ebmflow plugin") {
		t.Fatalf("err = %v", err)
	}
}

func TestChecksumVerifiedAtStart(t *testing.T) {
	b := kitBinary(t, "testdata")
	b.SHA256 = strings.Repeat("0", 64)
	h, _ := newTestHost(t, Options{})
	_, err := h.Start(context.Background(), "d", b)
	if err == nil || !strings.Contains(err.Error(), "expected sha256 "+b.SHA256) {
		t.Fatalf("err = %v", err)
	}
}

func TestLockFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, LockFileName)
	l, diags := ReadLock(path)
	if diags.HasErrors() || len(l.Plugins) != 0 {
		t.Fatalf("missing lock: %v", diags)
	}
	b := kitBinary(t, "testenergy")
	b.Description.Info = sdk.Info{Version: "0.1.0", Protocol: 1}
	if pinned, err := l.Check(b); pinned || err != nil {
		t.Fatalf("unpinned check = %v %v", pinned, err)
	}
	l.Set(b)
	if err := l.Write(); err != nil {
		t.Fatal(err)
	}
	l2, diags := ReadLock(path)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if pinned, err := l2.Check(b); !pinned || err != nil {
		t.Fatalf("pinned check = %v %v", pinned, err)
	}
	changed := b
	changed.SHA256 = strings.Repeat("a", 64)
	_, err := l2.Check(changed)
	var mm *ErrLockMismatch
	if !errors.As(err, &mm) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{`plugin "testenergy"`, b.SHA256, changed.SHA256, "ebmflow init -upgrade", path} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("mismatch error lacks %q: %v", want, err)
		}
	}
	os.WriteFile(path, []byte("plugin \"x\" {\n  version = 1\n"), 0o644)
	if _, diags := ReadLock(path); !diags.HasErrors() || !strings.Contains(diags.Error(), LockFileName) {
		t.Fatalf("corrupt lock file: %v", diags)
	}
}

// TestDescribeNotJSON: a plugin that prints to stdout before its
// description is told which line broke it and that stdout is reserved.
func TestDescribeNotJSON(t *testing.T) {
	dir := t.TempDir()
	for name, c := range map[string]struct{ body, want string }{
		"chatty": {`echo "warming up the GPU"; echo '{"info": {"name": "x"}}'`, `line 1 of its output is "warming up the GPU"`},
		"late":   {`echo '{"info":'; echo 'weights loaded'`, `line 2 of its output is "weights loaded"`},
		"silent": {`true`, "it printed nothing"},
	} {
		script := filepath.Join(dir, BinaryPrefix+name)
		os.WriteFile(script, []byte("#!/bin/sh\n"+c.body+"\n"), 0o755)
		_, err := DescribeBinary(context.Background(), script)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "stdout is reserved") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
