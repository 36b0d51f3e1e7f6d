package dashboard

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

//go:embed web
var webFS embed.FS

// Options configure a Server.
type Options struct {
	// Dirs are the served folders; each is scanned for run and sweep
	// folders. A folder that does not exist yet is served once it does.
	Dirs   []string
	Logger zerolog.Logger
	// Poll is how often the page asks a running run for new lines, in
	// milliseconds (default 1000).
	Poll int
}

// Server serves the dashboard. It only reads.
type Server struct {
	opts   Options
	log    zerolog.Logger
	roots  []*served
	mux    *http.ServeMux
	mu     sync.Mutex
	tables map[ref]*table
	tails  map[ref]*tailInfo
	last   *found
	lastAt time.Time
}

// New returns a server over opts.Dirs.
func New(opts Options) (*Server, error) {
	if len(opts.Dirs) == 0 {
		return nil, errors.New("dashboard: no folders to serve")
	}
	if opts.Poll <= 0 {
		opts.Poll = 1000
	}
	s := &Server{opts: opts, log: opts.Logger, tables: map[ref]*table{}, tails: map[ref]*tailInfo{}}
	for _, d := range opts.Dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, fmt.Errorf("dashboard: folder %s: %w", d, err)
		}
		s.roots = append(s.roots, &served{Path: abs})
	}
	static, _ := fs.Sub(webFS, "web")
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /api/runs", s.handleRuns)
	s.mux.HandleFunc("GET /api/run", s.handleRun)
	s.mux.HandleFunc("GET /api/metrics", s.handleMetrics)
	s.mux.HandleFunc("GET /api/compare", s.handleCompare)
	s.mux.HandleFunc("GET /file", s.handleFile)
	s.mux.Handle("GET /", http.FileServerFS(static))
	return s, nil
}

// ServeHTTP serves the page and its API; it answers only GET and HEAD.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "read-only: only GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	start := time.Now()
	defer func() {
		s.log.Debug().Str("path", r.URL.Path).Str("query", r.URL.RawQuery).Dur("took", time.Since(start)).Msg("served")
	}()
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'")
	s.mux.ServeHTTP(w, r)
}

// Close releases the served folders.
func (s *Server) Close() {
	for _, r := range s.roots {
		r.close()
	}
}

// Dirs returns the served folders, absolute.
func (s *Server) Dirs() []string {
	out := make([]string, len(s.roots))
	for i, r := range s.roots {
		out[i] = r.Path
	}
	return out
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// httpError answers with err's message; paths that leave the served
// folders are 403, missing things 404, the rest 400.
func httpError(w http.ResponseWriter, err error) {
	code := http.StatusBadRequest
	switch {
	case errors.Is(err, errOutside):
		code = http.StatusForbidden
	case errors.Is(err, fs.ErrNotExist):
		code = http.StatusNotFound
	}
	http.Error(w, err.Error(), code)
}
