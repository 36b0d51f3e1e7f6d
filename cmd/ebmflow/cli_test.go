package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/internal/testplugins"
)

func run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := runCLI(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageAndUnknownCommand(t *testing.T) {
	if code, out, _ := run(); code != exitInvalid || !strings.Contains(out, "Usage: ebmflow") {
		t.Fatalf("no args: %d %q", code, out)
	}
	if code, _, errs := run("frobnicate"); code != exitInvalid || !strings.Contains(errs, `unknown command "frobnicate"`) || strings.Contains(errs, "did you mean") {
		t.Fatalf("unknown: %d %q", code, errs)
	}
	// A likely typo gets the nearest command.
	for typo, want := range map[string]string{"rnu": "run", "valdiate": "validate", "plugn": "plugin", "swep": "sweep", "ver": "verify"} {
		if code, _, errs := run(typo); code != exitInvalid || !strings.Contains(errs, `unknown command "`+typo+`"; did you mean `+want+`?`) {
			t.Errorf("%s: %d %q", typo, code, errs)
		}
	}
	// ebmflow help CMD is CMD's help; an unknown CMD says so.
	if code, out, _ := run("help", "run"); code != exitOK || !strings.HasPrefix(out, "Usage: ebmflow run") {
		t.Errorf("help run: %d %q", code, out)
	}
	if code, _, errs := run("help", "rnu"); code != exitInvalid || !strings.Contains(errs, "did you mean run?") {
		t.Errorf("help rnu: %d %q", code, errs)
	}
	// run without a pipeline says what is missing, in one line.
	for args, want := range map[string]string{
		"":                     "ebmflow run: no pipeline file given",
		"-resume runs/x p.hcl": "give no pipeline file",
		"a.hcl b.hcl":          "one pipeline file at a time, got 2",
		"-log-level warn":      "ebmflow run: no pipeline file given",
	} {
		code, _, errs := run(append([]string{"run"}, strings.Fields(args)...)...)
		if code != exitInvalid || !strings.Contains(errs, want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("run %s: %d %q", args, code, errs)
		}
	}
	if code, out, _ := run("version"); code != exitOK || !strings.Contains(out, "plugin protocol 1") {
		t.Fatalf("version: %d %q", code, out)
	}
}

func TestPluginsAndInit(t *testing.T) {
	kit := t.TempDir()
	if err := testplugins.Build(kit); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", "/nonexistent")
	t.Setenv(host.PathEnv, kit)
	code, out, _ := run("plugins")
	if code != exitOK {
		t.Fatal(code)
	}
	kinds := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 6 {
			kinds[f[0]] = f[1]
		}
	}
	for name, kind := range map[string]string{"testenergy": "energy", "testsampler": "sampler", "testdiag": "diagnostics", "testkit": "?"} {
		if kinds[name] != kind {
			t.Errorf("plugins lists %s as %q, want %q:\n%s", name, kinds[name], kind, out)
		}
	}
	// -json: snake_case keys.
	code, out, _ = run("plugins", "-json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); code != exitOK || err != nil || len(rows) == 0 {
		t.Fatalf("plugins -json: %d %v\n%s", code, err, out)
	}
	for k := range rows[0] {
		if k != strings.ToLower(k) {
			t.Errorf("plugins -json key %q is not snake_case", k)
		}
	}
	if rows[0]["sha256"] == "" || rows[0]["name"] == "" {
		t.Errorf("plugins -json row %v", rows[0])
	}
	// One plugin: its attributes with default, range and doc.
	code, out, errs := run("plugins", "testsampler")
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{"testsampler 0.1.0 (sampler, protocol 1): ", "ATTRIBUTE TYPE DEFAULT ALLOWED DOC",
		"steps int 10 [1, 1000000] Langevin steps L (default 10)",
		"energy stage(energy) required - the energy stage",
		`dtype string "float32" float32 | float64 element type (default float32)`,
		`fail string "" "" | panic | exit | kill | hang how to misbehave`} {
		if code != exitOK || !strings.Contains(flat, want) {
			t.Errorf("plugins testsampler lacks %q (exit %d):\n%s%s", want, code, out, errs)
		}
	}
	code, out, _ = run("plugins", "-json", "testsampler")
	if code != exitOK || !strings.Contains(out, `"name": "steps"`) || !strings.Contains(out, `"max": 1000000`) {
		t.Errorf("plugins -json testsampler (exit %d):\n%s", code, out)
	}
	if code, _, errs := run("plugins", "testsampeler"); code != exitInvalid || !strings.Contains(errs, `no plugin named "testsampeler" found; did you mean "testsampler"?`) {
		t.Errorf("plugins testsampeler: exit %d, %s", code, errs)
	}

	dir := t.TempDir()
	pipe := filepath.Join(dir, "p.hcl")
	os.WriteFile(pipe, []byte(`
stage "energy" {
  plugin = "testenergy"
}
stage "sampler" {
  plugin = "testsampler"
  energy = stage.energy
}
`), 0o644)
	code, out, errs = run("init", pipe)
	if code != exitOK || !strings.Contains(out, "pinned 2 plugins") {
		t.Fatalf("init: %d %q %q", code, out, errs)
	}
	lock, err := os.ReadFile(filepath.Join(dir, host.LockFileName))
	if err != nil || !strings.Contains(string(lock), `plugin "testenergy"`) || !strings.Contains(string(lock), "sha256") {
		t.Fatalf("lock file: %v\n%s", err, lock)
	}
	// A changed binary is refused, naming the plugin and how to accept it.
	os.Remove(filepath.Join(kit, "ebmflow-plugin-testenergy"))
	b, _ := os.ReadFile(filepath.Join(kit, "ebmflow-plugin-testkit"))
	os.WriteFile(filepath.Join(kit, "ebmflow-plugin-testenergy"), append(b, 0), 0o755)
	code, _, errs = run("init", pipe)
	if code != exitInvalid || !strings.Contains(errs, `plugin "testenergy"`) || !strings.Contains(errs, "ebmflow init -upgrade") {
		t.Fatalf("changed binary: %d %q", code, errs)
	}
	if code, out, errs = run("init", "-upgrade", pipe); code != exitOK {
		t.Fatalf("upgrade: %d %q %q", code, out, errs)
	}
	// A plugin block's source names the binary; discovery is not asked.
	src := filepath.Join(dir, "own", "ebmflow-plugin-testenergy")
	os.MkdirAll(filepath.Dir(src), 0o755)
	b, _ = os.ReadFile(filepath.Join(kit, "ebmflow-plugin-testkit"))
	os.WriteFile(src, append(b, 1), 0o755)
	os.WriteFile(pipe, []byte("plugin \"testenergy\" {\n  source = \"own/ebmflow-plugin-testenergy\"\n}\nstage \"energy\" {\n  plugin = \"testenergy\"\n}\n"), 0o644)
	if code, out, errs = run("init", "-upgrade", pipe); code != exitOK || !strings.Contains(out, "("+src+")") {
		t.Fatalf("init with a source: %d %q %q", code, out, errs)
	}
	os.WriteFile(pipe, []byte("stage \"e\" {\n  plugin = \n}\n"), 0o644)
	code, _, errs = run("init", pipe)
	if code != exitInvalid || !strings.Contains(errs, "Error parsing pipeline") || !strings.Contains(errs, "p.hcl:2") {
		t.Fatalf("bad pipeline: %d %q", code, errs)
	}
}

// TestLogDurationsHaveUnits: a duration in a log line carries its unit, in
// JSON and on a terminal.
func TestLogDurationsHaveUnits(t *testing.T) {
	for _, format := range []string{"json", "human"} {
		var b bytes.Buffer
		log, err := newLogger(&b, format, "info")
		if err != nil {
			t.Fatal(err)
		}
		log.Info().Dur("took", 178013*time.Millisecond).Msg("run finished")
		if !strings.Contains(b.String(), "2m58.013s") {
			t.Errorf("%s: %q", format, b.String())
		}
	}
}
