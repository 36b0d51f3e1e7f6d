package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"path"
)

// servedTypes are the files /file serves, by extension: what a run or
// sweep folder shows. Checkpoints and anything else are not served.
var servedTypes = map[string]string{
	".png":   "image/png",
	".json":  "application/json",
	".jsonl": "text/plain; charset=utf-8",
	".hcl":   "text/plain; charset=utf-8",
	".csv":   "text/plain; charset=utf-8",
	".md":    "text/plain; charset=utf-8",
	".log":   "text/plain; charset=utf-8",
}

// handleFile serves /file?id=RUN&path=NAME: a file of a run or sweep
// folder, read through its served folder's os.Root.
func (s *Server) handleFile(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rr, err := s.parseRef(q.Get("id"))
	if err != nil {
		httpError(w, err)
		return
	}
	fr, err := rr.join(q.Get("path"))
	if err != nil {
		httpError(w, err)
		return
	}
	ctype, ok := servedTypes[path.Ext(fr.rel)]
	if !ok {
		http.Error(w, fmt.Sprintf("%s: not a file the dashboard serves", q.Get("path")), http.StatusForbidden)
		return
	}
	f, err := s.open(fr)
	if err != nil {
		httpError(w, unwrapOutside(err))
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		http.Error(w, q.Get("path")+": not a file", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// unwrapOutside keeps errOutside and drops absolute paths from the rest.
func unwrapOutside(err error) error {
	if errors.Is(err, errOutside) {
		return err
	}
	return unwrapPath(err)
}
