package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/internal/testplugins"
)

var update = flag.Bool("update", false, "rewrite the golden files' expected sections")

// kit builds the test plugins once per test binary.
var kitOnce struct {
	dir string
	err error
}

func testKit(t *testing.T) string {
	t.Helper()
	if kitOnce.dir == "" && kitOnce.err == nil {
		kitOnce.dir, kitOnce.err = os.MkdirTemp("", "ebmflow-cli-kit")
		if kitOnce.err == nil {
			kitOnce.err = testplugins.Build(kitOnce.dir)
		}
	}
	if kitOnce.err != nil {
		t.Fatal(kitOnce.err)
	}
	return kitOnce.dir
}

const expectSep = "-- expect --"

// TestValidateGolden runs `ebmflow validate` on each testdata/validate/*.txt
// case: the pipeline text, a line "-- expect --", then "exit N" and the
// expected output (stdout then stderr), with the temporary folder written
// as $DIR and the plugin folder as $KIT. Run with -update to rewrite the
// expected sections, then read the diff.
func TestValidateGolden(t *testing.T) {
	kit := testKit(t)
	cases, _ := filepath.Glob("testdata/validate/*.txt")
	if len(cases) == 0 {
		t.Fatal("no golden cases")
	}
	for _, file := range cases {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			src, want, ok := strings.Cut(string(raw), expectSep+"\n")
			if !ok && !*update {
				t.Fatalf("%s has no %q line", file, expectSep)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "pipeline.hcl"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Setenv("PATH", "")
			t.Setenv(host.PathEnv, kit)
			wd, _ := os.Getwd()
			os.Chdir(dir)
			code, out, errs := run("validate", "pipeline.hcl")
			os.Chdir(wd)
			got := fmt.Sprintf("exit %d\n%s%s", code, out, errs)
			got = strings.ReplaceAll(got, dir, "$DIR")
			got = strings.ReplaceAll(got, kit, "$KIT")
			if exe, err := os.Executable(); err == nil {
				got = strings.ReplaceAll(got, filepath.Dir(exe), "$EXE")
			}
			if *update {
				os.WriteFile(file, []byte(src+expectSep+"\n"+got), 0o644)
				return
			}
			if got != want {
				t.Errorf("%s: output differs\n--- got ---\n%s\n--- want ---\n%s", file, got, want)
			}
		})
	}
}

func TestValidateJSON(t *testing.T) {
	kit := testKit(t)
	t.Setenv("PATH", "")
	t.Setenv(host.PathEnv, kit)
	dir := t.TempDir()
	p := filepath.Join(dir, "p.hcl")
	os.WriteFile(p, []byte("stage \"e\" {\n  plugin = \"testenergy\"\n  curvature = 2\n}\n"), 0o644)
	code, out, _ := run("validate", "-json", p)
	if code != exitInvalid || !bytes.Contains([]byte(out), []byte(`"valid": false`)) || !strings.Contains(out, `"summary": "Unsupported argument"`) || !strings.Contains(out, `"line": 3`) || strings.Contains(out, `"Line"`) {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestGraphFormats(t *testing.T) {
	kit := testKit(t)
	t.Setenv("PATH", "")
	t.Setenv(host.PathEnv, kit)
	src, _, _ := strings.Cut(readFile(t, "testdata/validate/ok.txt"), expectSep)
	p := filepath.Join(t.TempDir(), "p.hcl")
	os.WriteFile(p, []byte(src), 0o644)
	code, out, errs := run("graph", p)
	for _, want := range []string{"digraph pipeline {", `"sampler" -> "energy" [label="energy"];`, `"train" -> "diag" [label="diagnostics"];`, `"energy" [label="energy\ntestenergy (energy)"];`} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("dot lacks %q (exit %d):\n%s%s", want, code, out, errs)
		}
	}
	code, out, _ = run("graph", "-format", "mermaid", p)
	if code != exitOK || !strings.HasPrefix(out, "flowchart LR\n") || !strings.Contains(out, "s_sampler -->|energy| s_energy") {
		t.Errorf("mermaid (exit %d):\n%s", code, out)
	}
	src, _, _ = strings.Cut(readFile(t, "testdata/validate/cycle.txt"), expectSep)
	os.WriteFile(p, []byte(src), 0o644)
	if code, _, errs := run("graph", p); code != exitInvalid || !strings.Contains(strings.Join(strings.Fields(errs), " "), "stage.energy -> stage.sampler -> stage.energy") {
		t.Errorf("cycle: exit %d\n%s", code, errs)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestValidateLockMismatch(t *testing.T) {
	kit := testKit(t)
	t.Setenv("PATH", "")
	t.Setenv(host.PathEnv, kit)
	dir := t.TempDir()
	src, _, _ := strings.Cut(readFile(t, "testdata/validate/ok.txt"), expectSep)
	p := filepath.Join(dir, "p.hcl")
	os.WriteFile(p, []byte(src), 0o644)
	lock := "plugin \"testenergy\" {\n  version  = \"0.1.0\"\n  protocol = 1\n  sha256   = \"" + strings.Repeat("ab", 32) + "\"\n}\n"
	os.WriteFile(filepath.Join(dir, host.LockFileName), []byte(lock), 0o644)
	code, _, errs := run("validate", p)
	flat := strings.Join(strings.Fields(errs), " ")
	if code != exitInvalid || !strings.Contains(flat, `plugin "testenergy"`) || !strings.Contains(flat, strings.Repeat("ab", 32)) || !strings.Contains(flat, "ebmflow init -upgrade") {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	// validate never writes the lock file; run does, on first use.
	if b, _ := os.ReadFile(filepath.Join(dir, host.LockFileName)); string(b) != lock {
		t.Fatalf("validate rewrote the lock file:\n%s", b)
	}
}
