package dashboard

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// errOutside reports a path that leaves the served folders.
var errOutside = errors.New("outside the served folders")

// served is one folder the dashboard serves. Every read goes through its
// os.Root, which refuses names that leave it by .., by an absolute path or
// through a symlink pointing out. A folder that does not exist yet (runs/
// before the first run) is opened when it appears.
type served struct {
	Path string // absolute, for display
	mu   sync.Mutex
	root *os.Root
}

func (s *served) open() (*os.Root, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.root == nil {
		r, err := os.OpenRoot(s.Path)
		if err != nil {
			return nil, err
		}
		s.root = r
	}
	return s.root, nil
}

func (s *served) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.root != nil {
		s.root.Close()
		s.root = nil
	}
}

// ref names a folder or file inside a served folder: the folder's index
// and a slash-separated local path ("." for the served folder itself).
type ref struct {
	root int
	rel  string
}

// String is the ref as the page writes it: "INDEX/REL".
func (r ref) String() string { return strconv.Itoa(r.root) + "/" + r.rel }

// parseRef reads "INDEX/REL", refusing anything but a local path: no
// absolute paths, no .. components, no backslashes or NULs.
func (s *Server) parseRef(id string) (ref, error) {
	i, rel, ok := strings.Cut(id, "/")
	n, err := strconv.Atoi(i)
	if !ok || err != nil || n < 0 || n >= len(s.roots) {
		return ref{}, fmt.Errorf("run id %q: no such served folder", id)
	}
	if err := checkLocal(rel); err != nil {
		return ref{}, fmt.Errorf("run id %q: %w", id, err)
	}
	return ref{root: n, rel: path.Clean(rel)}, nil
}

// checkLocal accepts a slash-separated path that stays inside its folder.
func checkLocal(p string) error {
	if p == "." {
		return nil
	}
	if p == "" || strings.ContainsAny(p, "\\\x00") || !filepath.IsLocal(p) || path.Clean(p) != p {
		return fmt.Errorf("path %q: %w", p, errOutside)
	}
	return nil
}

// join returns the ref of name inside r's folder; name must be local.
func (r ref) join(name string) (ref, error) {
	if err := checkLocal(name); err != nil {
		return ref{}, err
	}
	return ref{root: r.root, rel: path.Join(r.rel, name)}, nil
}

// file is the ref of a fixed file name inside r's folder.
func (r ref) file(name string) ref { return ref{root: r.root, rel: path.Join(r.rel, name)} }

// open opens a file read-only through its served folder's os.Root.
func (s *Server) open(r ref) (*os.File, error) {
	root, err := s.roots[r.root].open()
	if err != nil {
		return nil, err
	}
	f, err := root.Open(r.rel)
	return f, outside(r, err)
}

// outside turns os.Root's refusal of a path that escapes into errOutside.
func outside(r ref, err error) error {
	if err != nil && strings.Contains(err.Error(), "escapes") {
		return fmt.Errorf("%s: %w", r.rel, errOutside)
	}
	return err
}

// readFile reads a whole (small) file.
func (s *Server) readFile(r ref) ([]byte, error) {
	f, err := s.open(r)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 64<<20))
}

// readTail reads at most the last n bytes of a file (a first line cut
// short is the caller's to skip: it is not valid JSON).
func (s *Server) readTail(r ref, n int64) ([]byte, error) {
	f, err := s.open(r)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := max(fi.Size()-n, 0)
	buf := make([]byte, fi.Size()-off)
	k, err := f.ReadAt(buf, off)
	if err != nil && err != io.EOF {
		return nil, err
	}
	return buf[:k], nil
}

// readDir lists a folder.
func (s *Server) readDir(r ref) ([]fs.DirEntry, error) {
	f, err := s.open(r)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}

// stat stats a file.
func (s *Server) stat(r ref) (fs.FileInfo, error) {
	root, err := s.roots[r.root].open()
	if err != nil {
		return nil, err
	}
	fi, err := root.Stat(r.rel)
	return fi, outside(r, err)
}
