package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ebmflow/ebmflow/internal/rpc"
)

// BinaryPrefix starts the file name of every plugin binary.
const BinaryPrefix = "ebmflow-plugin-"

// PathEnv lists extra plugin folders, separated like $PATH.
const PathEnv = "EBMFLOW_PLUGIN_PATH"

// ErrNotFound reports a plugin binary that is in none of the search folders.
var ErrNotFound = errors.New("plugin not found")

// SearchDirs returns the folders searched for plugins, in order: the folder
// of the running executable, plugins/ beside the pipeline (if pipelineDir is
// set), $EBMFLOW_PLUGIN_PATH, $PATH.
func SearchDirs(pipelineDir string) []string {
	var dirs []string
	if exe, err := os.Executable(); err == nil {
		if r, err := filepath.EvalSymlinks(exe); err == nil {
			exe = r
		}
		dirs = append(dirs, filepath.Dir(exe))
	}
	if pipelineDir != "" {
		dirs = append(dirs, filepath.Join(pipelineDir, "plugins"))
	}
	dirs = append(dirs, filepath.SplitList(os.Getenv(PathEnv))...)
	dirs = append(dirs, filepath.SplitList(os.Getenv("PATH"))...)
	var out []string
	seen := map[string]bool{}
	for _, d := range dirs {
		if d == "" || seen[d] {
			continue
		}
		seen[d] = true
		out = append(out, d)
	}
	return out
}

// Find returns the path of ebmflow-plugin-NAME, searching SearchDirs.
func Find(name, pipelineDir string) (string, error) {
	dirs := SearchDirs(pipelineDir)
	for _, d := range dirs {
		p := filepath.Join(d, BinaryPrefix+name)
		if isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: no executable %s%s in %s", ErrNotFound, BinaryPrefix, name, strings.Join(dirs, ", "))
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// Binary is a plugin binary found on disk.
type Binary struct {
	Name   string
	Path   string
	SHA256 string
	// Description is what the binary's describe command printed; its Info
	// is zero when describe failed (see Err).
	Description rpc.Description
	Err         error
}

// FileSHA256 returns the hex SHA-256 of a file.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// DescribeBinary runs `PATH describe` (no handshake) with a time limit and
// decodes its answer.
func DescribeBinary(ctx context.Context, path string) (rpc.Description, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var d rpc.Description
	out, err := exec.CommandContext(ctx, path, "describe").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && len(ee.Stderr) > 0 {
			return d, fmt.Errorf("%s describe: %w: %s", path, err, strings.TrimSpace(string(ee.Stderr)))
		}
		return d, fmt.Errorf("%s describe: %w", path, err)
	}
	if err := json.Unmarshal(out, &d); err != nil {
		return d, fmt.Errorf("%s describe: not an ebmflow plugin description (%v)%s; a plugin's stdout is reserved for the protocol: its logs go to stderr", path, err, offendingLine(out, err))
	}
	return d, nil
}

// offendingLine quotes the line of out where JSON decoding failed (or the
// first line), so that a stray print in a plugin is seen at once.
func offendingLine(out []byte, err error) string {
	if len(bytes.TrimSpace(out)) == 0 {
		return ": it printed nothing"
	}
	off := 0
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = int(min(se.Offset, int64(len(out))))
		if off > 0 {
			off-- // the offset is just past the offending byte
		}
	}
	start := bytes.LastIndexByte(out[:off], '\n') + 1
	end := bytes.IndexByte(out[start:], '\n')
	if end < 0 {
		end = len(out) - start
	}
	line := string(out[start : start+end])
	if len(line) > 200 {
		line = line[:200] + "..."
	}
	n := bytes.Count(out[:start], []byte("\n")) + 1
	return fmt.Sprintf(": line %d of its output is %q", n, line)
}

// List returns every plugin binary in the search folders; a name found in
// several folders is listed once, from the first folder, as Find would use.
func List(ctx context.Context, pipelineDir string) []Binary {
	var out []Binary
	seen := map[string]bool{}
	for _, d := range SearchDirs(pipelineDir) {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), BinaryPrefix) {
				continue
			}
			name := strings.TrimPrefix(e.Name(), BinaryPrefix)
			p := filepath.Join(d, e.Name())
			if seen[name] || !isExecutable(p) {
				continue
			}
			seen[name] = true
			b := Binary{Name: name, Path: p}
			b.SHA256, b.Err = PluginSHA256(p)
			if b.Err == nil {
				b.Description, b.Err = DescribeBinary(ctx, p)
			}
			out = append(out, b)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
