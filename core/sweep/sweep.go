package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ebmflow/ebmflow/sdk"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// File names in a sweep folder.
const (
	RecordFile   = "sweep.json"
	PipelineFile = "pipeline.hcl"
	JobScript    = "job.sh"
	cancelMarker = "cancelled"
)

// Executors.
const (
	Local = "local"
	Slurm = "slurm"
)

// ErrNotSweep reports a folder without sweep.json.
var ErrNotSweep = errors.New("not a sweep folder")

// Plan is what a sweep runs: the points of one pipeline.
type Plan struct {
	Name string `json:"name"`
	// Pipeline is the pipeline file the sweep was planned from, and
	// SweepFile the separate sweep file, if any (absolute paths).
	Pipeline  string    `json:"pipeline"`
	SweepFile string    `json:"sweep_file,omitempty"`
	Variables []string  `json:"variables"`
	Points    []Point   `json:"points"`
	Parallel  int       `json:"parallel"`
	Slurm     SlurmSpec `json:"slurm"`
}

// Submission is one hand-over of points to an executor.
type Submission struct {
	Time     time.Time `json:"time"`
	Executor string    `json:"executor"`
	// JobID is the Slurm array job's id (slurm executor).
	JobID   string `json:"job_id,omitempty"`
	Indices []int  `json:"indices"`
	Retry   bool   `json:"retry,omitempty"`
}

// Sweep is a sweep folder: its plan and its submissions.
type Sweep struct {
	Dir         string       `json:"-"`
	Created     time.Time    `json:"created"`
	Plan        Plan         `json:"plan"`
	Executor    string       `json:"executor"`
	Ebmflow     string       `json:"ebmflow"`
	Submissions []Submission `json:"submissions"`
}

// ParseVar reads a -var value: an HCL literal when it parses as one (0.1,
// true, [1, 2], "text"), else the text itself as a string.
func ParseVar(raw string) cty.Value {
	expr, d := hclsyntax.ParseExpression([]byte(raw), "-var", hcl.InitialPos)
	if !d.HasErrors() {
		if v, d := expr.Value(nil); !d.HasErrors() {
			return v
		}
	}
	return cty.StringVal(raw)
}

// Open reads the sweep folder dir.
func Open(dir string) (*Sweep, error) {
	b, err := os.ReadFile(filepath.Join(dir, RecordFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w (no %s)", dir, ErrNotSweep, RecordFile)
	}
	if err != nil {
		return nil, err
	}
	s := &Sweep{}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, RecordFile), err)
	}
	if s.Dir, err = filepath.Abs(dir); err != nil {
		return nil, err
	}
	return s, nil
}

// Save writes sweep.json atomically.
func (s *Sweep) Save() error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return sdk.WriteFileAtomic(filepath.Join(s.Dir, RecordFile), append(b, '\n'), 0o644)
}

// Paths of a point's files.
func (s *Sweep) RunDir(p Point) string     { return filepath.Join(s.Dir, "runs", p.Name) }
func (s *Sweep) LogPath(p Point) string    { return filepath.Join(s.Dir, "logs", p.Name+".log") }
func (s *Sweep) VarsPath(p Point) string   { return filepath.Join(s.Dir, "vars", p.Name+".hcl") }
func (s *Sweep) StatusPath(p Point) string { return filepath.Join(s.Dir, "status", p.Name+".json") }
func (s *Sweep) PipelinePath() string      { return filepath.Join(s.Dir, PipelineFile) }

// Point returns the point with index i.
func (s *Sweep) Point(i int) (Point, error) {
	if i < 0 || i >= len(s.Plan.Points) {
		return Point{}, fmt.Errorf("sweep %s has points 0 to %d, not %d", s.Dir, len(s.Plan.Points)-1, i)
	}
	return s.Plan.Points[i], nil
}

// Cancelled reports whether cancel was asked for (no new local points
// start).
func (s *Sweep) Cancelled() bool {
	_, err := os.Stat(filepath.Join(s.Dir, cancelMarker))
	return err == nil
}
