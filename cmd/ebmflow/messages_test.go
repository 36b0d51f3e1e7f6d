package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunFailureMessages: each failure says what it is once: a problem in
// the pipeline, a stage that cannot start, and a crash before the first
// checkpoint, which has nothing to resume.
func TestRunFailureMessages(t *testing.T) {
	bin, _ := ebmflowBinary(t)
	dir := t.TempDir()
	write := func(name, energyExtra string) string {
		src := strings.Replace(e2ePipeline, "  nan_at  = var.nan_at\n", "  nan_at  = var.nan_at\n"+energyExtra, 1)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, extra string
		code        int
		want, not   []string
		vars        []string
	}{
		{"schema.hcl", "  curvature = 2\n", exitInvalid,
			[]string{"Unsupported argument", "Error: the pipeline " + filepath.Join(dir, "schema.hcl") + " has 1 problem\n"},
			[]string{"parsing", "1 problems"}, nil},
		{"crash.hcl", "  fail = \"exit\"\n  fail_method = \"grad\"\n", exitFailed,
			[]string{"died during grad", "The run stopped before its first checkpoint, so there is nothing to resume"},
			[]string{"resume with", "rpc error", "grad: grad:"}, nil},
		{"nan.hcl", "", exitNonFinite,
			[]string{"non-finite value at iteration 3: d_st = NaN", "The run stopped before its first checkpoint"},
			[]string{"is intact"}, []string{"-var", "nan_at=3"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := write(c.name, c.extra)
			args := append([]string{"run", "-log-level", "error", "-out", filepath.Join(dir, "run-"+c.name)}, c.vars...)
			code, log := ebmflow(t, bin, append(args, p)...)
			if code != c.code {
				t.Errorf("exit %d, want %d", code, c.code)
			}
			for _, w := range c.want {
				if !strings.Contains(log, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			for _, n := range c.not {
				if strings.Contains(log, n) {
					t.Errorf("output has %q", n)
				}
			}
			if t.Failed() || testing.Verbose() {
				t.Logf("output:\n%s", log)
			}
		})
	}
}

// TestResumeWithChangedPlugin: a plugin binary changed since the run was
// made is refused at resume with exit 1 and advice that works (put the
// binary back), not the lock file's `init -upgrade`, which cannot make a
// resume continue bit for bit.
func TestResumeWithChangedPlugin(t *testing.T) {
	bin, kit := ebmflowBinary(t)
	own := t.TempDir()
	copyFile := func(from, to string, extra []byte) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, append(b, extra...), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(bin, filepath.Join(own, "ebmflow"), nil)
	for _, k := range []string{"testenergy", "testsampler", "testdata", "testdiag"} {
		copyFile(filepath.Join(kit, "ebmflow-plugin-testkit"), filepath.Join(own, "ebmflow-plugin-"+k), nil)
	}
	pipe := writePipeline(t)
	out := filepath.Join(t.TempDir(), "run")
	if code, log := ebmflow(t, filepath.Join(own, "ebmflow"), "run", "-var", "iterations=10", "-out", out, pipe); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, log)
	}
	// A rebuilt energy: one more byte, another SHA-256.
	copyFile(filepath.Join(kit, "ebmflow-plugin-testkit"), filepath.Join(own, "ebmflow-plugin-testenergy"), []byte{0})
	code, log := ebmflow(t, filepath.Join(own, "ebmflow"), "run", "-resume", out)
	if code != exitInvalid {
		t.Errorf("exit %d, want %d", code, exitInvalid)
	}
	for _, w := range []string{`plugin "testenergy"`, filepath.Join(out, "manifest.json") + " records sha256", "put that binary back"} {
		if !strings.Contains(log, w) {
			t.Errorf("output lacks %q:\n%s", w, log)
		}
	}
	if strings.Contains(log, "init -upgrade") {
		t.Errorf("output advises init -upgrade:\n%s", log)
	}
}

// TestValidateInvalidVariable: a -var value that does not fit, used by a
// stage's attribute, is one error and no crash.
func TestValidateInvalidVariable(t *testing.T) {
	kit := testKit(t)
	t.Setenv("PATH", "")
	t.Setenv("EBMFLOW_PLUGIN_PATH", kit)
	p := filepath.Join(t.TempDir(), "p.hcl")
	src := strings.Replace(e2ePipeline, "  steps    = 3\n", "  steps    = var.n\n", 1)
	src = "variable \"n\" {\n  type = number\n}\n" + src
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := run("validate", "-var", "n=abc", p)
	if code != exitInvalid || strings.Count(errs, "Error: ") != 1 || !strings.Contains(errs, `-var n: "abc" is not a value of type number.`) {
		t.Fatalf("exit %d:\n%s", code, errs)
	}
}
