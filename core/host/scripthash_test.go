package host

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestPluginSHA256 checks that a script's pin covers the files it declares
// and nothing else, and that a compiled plugin's pin is its file's hash.
func TestPluginSHA256(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, BinaryPrefix+"py")
	writeFile(t, script, "#!/usr/bin/python3\n# ebmflow: files = pkg/*.py lib.py\nimport pkg\n")
	writeFile(t, filepath.Join(dir, "pkg", "a.py"), "A = 1\n")
	writeFile(t, filepath.Join(dir, "pkg", "b.py"), "B = 1\n")
	writeFile(t, filepath.Join(dir, "lib.py"), "L = 1\n")
	writeFile(t, filepath.Join(dir, "pkg", "a.pyc"), "compiled")
	files, err := ScriptFiles(script)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(files, ","); got != "lib.py,pkg/a.py,pkg/b.py" {
		t.Fatalf("files %s", got)
	}
	sum0, err := PluginSHA256(script)
	if err != nil {
		t.Fatal(err)
	}
	own, _ := FileSHA256(script)
	if sum0 == own {
		t.Fatal("the pin of a script with files is the script's own hash")
	}
	// A file outside the patterns, or a compiled cache, does not count.
	writeFile(t, filepath.Join(dir, "pkg", "a.pyc"), "recompiled")
	writeFile(t, filepath.Join(dir, "notes.txt"), "x")
	if s, _ := PluginSHA256(script); s != sum0 {
		t.Fatal("an undeclared file changed the pin")
	}
	bin := Binary{Name: "py", Path: script, SHA256: sum0}
	if sc, err := secureConfig(bin); err != nil || sc != nil {
		t.Fatalf("unchanged script: %v %v", sc, err)
	}
	writeFile(t, filepath.Join(dir, "pkg", "b.py"), "B = 2\n")
	sum1, _ := PluginSHA256(script)
	if sum1 == sum0 {
		t.Fatal("a declared file changed but the pin did not")
	}
	if _, err := secureConfig(bin); err == nil || !strings.Contains(err.Error(), "changed after it was checked") {
		t.Fatalf("changed file at start: %v", err)
	}
	// A pattern that matches nothing means the plugin's files are missing.
	os.Remove(filepath.Join(dir, "lib.py"))
	if _, err := PluginSHA256(script); err == nil || !strings.Contains(err.Error(), "matches no file") {
		t.Fatalf("missing file: %v", err)
	}
	writeFile(t, script, "#!/bin/sh\n# ebmflow: files = ../*.py\n")
	if _, err := ScriptFiles(script); err == nil {
		t.Fatal("a pattern outside the plugin's folder was accepted")
	}
	// Without the directive the pin is the file's own hash, checked by go-plugin.
	writeFile(t, script, "#!/bin/sh\necho hi\n")
	s, _ := PluginSHA256(script)
	if own, _ := FileSHA256(script); s != own {
		t.Fatal("a plain executable's pin is not its hash")
	}
	if sc, err := secureConfig(Binary{Path: script, SHA256: s}); err != nil || sc == nil {
		t.Fatalf("plain executable: %v %v", sc, err)
	}
}
