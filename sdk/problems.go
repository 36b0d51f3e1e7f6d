package sdk

import (
	"fmt"
	"strings"
)

// Severity of a Problem.
type Severity int

const (
	SeverityError   Severity = 1
	SeverityWarning Severity = 2
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// Problem is what is wrong (or, as a warning, doubtful) in a stage's
// configuration, as Configure reports it. Path names the attribute it is
// about (for example ["epsilon"]) so the host can point at its source range
// in the pipeline. (A "diagnostics" stage is something else: a plugin kind
// that watches training, sdk.Diagnoser.)
type Problem struct {
	Severity Severity
	Summary  string
	Detail   string
	Path     []string
}

// Problems is a list of Problem.
type Problems []Problem

// Errorf appends an error about the attribute path (nil for the
// whole block).
func (d *Problems) Errorf(path []string, summary string, detailf string, args ...any) {
	*d = append(*d, Problem{Severity: SeverityError, Summary: summary, Detail: fmt.Sprintf(detailf, args...), Path: path})
}

// Warnf appends a warning.
func (d *Problems) Warnf(path []string, summary string, detailf string, args ...any) {
	*d = append(*d, Problem{Severity: SeverityWarning, Summary: summary, Detail: fmt.Sprintf(detailf, args...), Path: path})
}

// HasErrors reports whether any problem is an error.
func (d Problems) HasErrors() bool {
	for _, x := range d {
		if x.Severity != SeverityWarning {
			return true
		}
	}
	return false
}

// Err returns the errors joined as one error, or nil.
func (d Problems) Err() error {
	var parts []string
	for _, x := range d {
		if x.Severity == SeverityWarning {
			continue
		}
		parts = append(parts, x.Error())
	}
	if len(parts) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(parts, "; "))
}

func (x Problem) Error() string {
	s := x.Summary
	if len(x.Path) > 0 {
		s = strings.Join(x.Path, ".") + ": " + s
	}
	if x.Detail != "" {
		s += ": " + x.Detail
	}
	return s
}
