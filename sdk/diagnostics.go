package sdk

import (
	"fmt"
	"strings"
)

// Severity of a Diagnostic.
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

// Diagnostic is a structured problem report. Path names the attribute it is
// about (for example ["epsilon"]) so the host can point at its source range.
type Diagnostic struct {
	Severity Severity
	Summary  string
	Detail   string
	Path     []string
}

// Diagnostics is a list of Diagnostic.
type Diagnostics []Diagnostic

// Errorf appends an error diagnostic about the attribute path (nil for the
// whole block).
func (d *Diagnostics) Errorf(path []string, summary string, detailf string, args ...any) {
	*d = append(*d, Diagnostic{Severity: SeverityError, Summary: summary, Detail: fmt.Sprintf(detailf, args...), Path: path})
}

// Warnf appends a warning diagnostic.
func (d *Diagnostics) Warnf(path []string, summary string, detailf string, args ...any) {
	*d = append(*d, Diagnostic{Severity: SeverityWarning, Summary: summary, Detail: fmt.Sprintf(detailf, args...), Path: path})
}

// HasErrors reports whether any diagnostic is an error.
func (d Diagnostics) HasErrors() bool {
	for _, x := range d {
		if x.Severity != SeverityWarning {
			return true
		}
	}
	return false
}

// Err returns the error diagnostics joined as one error, or nil.
func (d Diagnostics) Err() error {
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

func (x Diagnostic) Error() string {
	s := x.Summary
	if len(x.Path) > 0 {
		s = strings.Join(x.Path, ".") + ": " + s
	}
	if x.Detail != "" {
		s += ": " + x.Detail
	}
	return s
}
