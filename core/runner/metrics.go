package runner

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"

	"github.com/ebmflow/ebmflow/sdk"
)

// Metric is one line of metrics.jsonl: one training iteration, the same
// record the diagnostics stages observe.
type Metric = sdk.Record

// Field is a named value of a Metric.
type Field = sdk.Field

// metricsFile appends metrics lines; sync flushes and fsyncs them.
type metricsFile struct {
	f *os.File
	w *bufio.Writer
}

// openMetrics opens path for appending after keeping only the lines of
// iterations up to keep (all when keep < 0); a torn last line left by a
// killed run is dropped.
func openMetrics(path string, keep int) (*metricsFile, error) {
	if keep >= 0 {
		ms, err := ReadMetrics(path)
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		var buf bytes.Buffer
		next := 1
		for _, m := range ms {
			if m.T > keep {
				continue
			}
			if m.T != next {
				return nil, fmt.Errorf("%s: %s", path, metricsGap(next, m.T, keep))
			}
			next++
			b, _ := json.Marshal(m)
			buf.Write(append(b, '\n'))
		}
		if next <= keep {
			return nil, fmt.Errorf("%s: %s", path, metricsGap(next, keep+1, keep))
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	return &metricsFile{f: f, w: bufio.NewWriter(f)}, nil
}

func (m *metricsFile) write(x Metric) error {
	b, err := json.Marshal(x)
	if err != nil {
		return err
	}
	m.w.Write(b)
	return m.w.WriteByte('\n')
}

func (m *metricsFile) sync() error {
	if err := m.w.Flush(); err != nil {
		return err
	}
	return m.f.Sync()
}

func (m *metricsFile) close() error {
	err := m.sync()
	if cerr := m.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ReadMetrics reads a metrics.jsonl file. A torn last line (a run killed
// while writing) is ignored; a malformed line elsewhere is an error naming
// its line number.
func ReadMetrics(path string) ([]Metric, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := bytes.Split(b, []byte("\n"))
	var out []Metric
	for i, line := range lines {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var m Metric
		if err := json.Unmarshal(line, &m); err != nil {
			if i == len(lines)-1 {
				break // torn last line
			}
			return nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		out = append(out, m)
	}
	return out, nil
}

func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

func fmtFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// metricsGap says which iterations a metrics file lacks: from want up to
// (not including) got, where the checkpoint being resumed is after
// iteration keep. Resuming would leave that gap in the record.
func metricsGap(want, got, keep int) string {
	missing := fmt.Sprintf("iteration %d", want)
	if got-1 > want {
		missing = fmt.Sprintf("iterations %d-%d", want, got-1)
	}
	if got > keep {
		return fmt.Sprintf("the metrics end at iteration %d but the checkpoint is after iteration %d: %s missing; the run cannot resume with a gap in its record", want-1, keep, missing)
	}
	if got < want {
		return fmt.Sprintf("iteration %d appears out of order after iteration %d; the record is not one run's", got, want-1)
	}
	return fmt.Sprintf("%s missing before iteration %d (the checkpoint is after iteration %d); the run cannot resume with a gap in its record", missing, got, keep)
}
