package host

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/go-plugin"
)

// FilesDirective starts the line by which a script plugin (Python, say)
// names its own files, relative to the script's folder, for the lock file:
//
//	# ebmflow: files = torch_energy/*.py
//
// Patterns are filepath.Match globs, separated by spaces; the line must be
// among the script's first 20 lines.
const FilesDirective = "# ebmflow: files ="

// ScriptFiles returns the files a plugin executable declares as its own
// (FilesDirective), as clean paths relative to the folder of the
// executable (symbolic links resolved), sorted; nil for a plugin without
// the directive (every compiled plugin). A pattern that matches nothing is
// an error: the plugin's files are missing.
func ScriptFiles(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var patterns []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4096), 4096)
	for i := 0; i < 20 && sc.Scan(); i++ {
		if rest, ok := strings.CutPrefix(sc.Text(), FilesDirective); ok {
			patterns = append(patterns, strings.Fields(rest)...)
		}
	}
	if len(patterns) == 0 {
		return nil, nil
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(real)
	seen := map[string]bool{}
	var out []string
	for _, p := range patterns {
		if filepath.IsAbs(p) || strings.HasPrefix(filepath.Clean(p), "..") {
			return nil, fmt.Errorf("%s: files pattern %q must stay inside the plugin's folder", path, p)
		}
		matches, err := filepath.Glob(filepath.Join(dir, p))
		if err != nil {
			return nil, fmt.Errorf("%s: files pattern %q: %w", path, p, err)
		}
		n := 0
		for _, m := range matches {
			if st, err := os.Stat(m); err != nil || !st.Mode().IsRegular() {
				continue
			}
			rel, _ := filepath.Rel(dir, m)
			n++
			if !seen[rel] {
				seen[rel] = true
				out = append(out, rel)
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("%s: files pattern %q matches no file in %s", path, p, dir)
		}
	}
	sort.Strings(out)
	return out, nil
}

// PluginSHA256 returns the SHA-256 that pins a plugin in the lock file and
// the run manifest. For a compiled plugin it is the file's own SHA-256. For
// a script that declares its own files (ScriptFiles) it is the SHA-256 of
//
//	"ebmflow-plugin-files-v1\n" + ". " + sha256(script) + "\n" + for each file: REL + " " + sha256(file) + "\n"
//
// so a change to the script or to any of its files changes the pin. The
// interpreter and its site packages are not part of it.
func PluginSHA256(path string) (string, error) {
	self, err := FileSHA256(path)
	if err != nil {
		return "", err
	}
	files, err := ScriptFiles(path)
	if err != nil || files == nil {
		return self, err
	}
	real, _ := filepath.EvalSymlinks(path)
	h := sha256.New()
	fmt.Fprintf(h, "ebmflow-plugin-files-v1\n. %s\n", self)
	for _, rel := range files {
		sum, err := FileSHA256(filepath.Join(filepath.Dir(real), rel))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %s\n", filepath.ToSlash(rel), sum)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// secureConfig is how Start checks a pinned plugin before it runs: go-plugin
// re-hashes a compiled plugin's file at exec; a script with its own files is
// re-hashed here, files included, just before the start.
func secureConfig(bin Binary) (*plugin.SecureConfig, error) {
	if bin.SHA256 == "" {
		return nil, nil
	}
	sum, err := hex.DecodeString(bin.SHA256)
	if err != nil {
		return nil, fmt.Errorf("bad checksum %q", bin.SHA256)
	}
	files, err := ScriptFiles(bin.Path)
	if err != nil {
		return nil, err
	}
	if files == nil {
		return &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}, nil
	}
	now, err := PluginSHA256(bin.Path)
	if err != nil {
		return nil, err
	}
	if now != bin.SHA256 {
		return nil, fmt.Errorf("the plugin or one of its files changed after it was checked: sha256 %s, expected %s", now, bin.SHA256)
	}
	return nil, nil
}
