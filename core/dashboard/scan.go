package dashboard

import (
	"encoding/json"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/ebmflow/ebmflow/core/sweep"
)

// maxDepth bounds how deep the scan looks for run and sweep folders.
const maxDepth = 6

// skipDirs are folders that hold no run folders.
var skipDirs = map[string]bool{"checkpoints": true, "samples": true, "density": true, "logs": true,
	"vars": true, "status": true, ".git": true, "node_modules": true}

// found is what a scan finds: run folders and sweep folders, each sorted
// by path, and each sweep point's run folder.
type found struct {
	runs   []ref
	sweeps []*sweepFound
	// sweepOf maps a run's ref to its sweep and point.
	sweepOf map[ref]pointRef
	// problems are folders that could not be read.
	problems []string
}

type sweepFound struct {
	ref   ref
	sweep *sweep.Sweep
	err   string
}

type pointRef struct {
	sweep *sweepFound
	point sweep.Point
}

// scan walks every served folder for run folders (holding manifest.json)
// and sweep folders (holding sweep.json). It follows no symlinks.
func (s *Server) scan() *found {
	out := &found{sweepOf: map[ref]pointRef{}}
	for i, sv := range s.roots {
		root, err := sv.open()
		if err != nil {
			continue // not there (yet)
		}
		fsys := root.FS()
		fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				out.problems = append(out.problems, err.Error())
				return nil
			}
			if !d.IsDir() {
				return nil
			}
			if p != "." && (skipDirs[d.Name()] || strings.Count(p, "/") >= maxDepth) {
				return fs.SkipDir
			}
			r := ref{root: i, rel: p}
			if _, err := fs.Stat(fsys, path.Join(p, "manifest.json")); err == nil {
				out.runs = append(out.runs, r)
				return fs.SkipDir
			}
			if b, err := fs.ReadFile(fsys, path.Join(p, sweep.RecordFile)); err == nil {
				sf := &sweepFound{ref: r, sweep: &sweep.Sweep{}}
				if err := json.Unmarshal(b, sf.sweep); err != nil {
					sf.err = sweep.RecordFile + ": " + err.Error()
				}
				out.sweeps = append(out.sweeps, sf)
				for _, pt := range sf.sweep.Plan.Points {
					if checkLocal(pt.Name) == nil {
						out.sweepOf[ref{root: i, rel: path.Join(p, "runs", pt.Name)}] = pointRef{sweep: sf, point: pt}
					}
				}
			}
			return nil
		})
	}
	sort.Slice(out.runs, func(a, b int) bool { return out.runs[a].String() < out.runs[b].String() })
	return out
}
