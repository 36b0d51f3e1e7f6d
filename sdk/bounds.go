package sdk

import (
	"fmt"
	"math"
	"strconv"
)

// Bounds limit a numeric attribute: Min <= v <= Max, strict on a side whose
// Exclusive flag is set; a nil side is unbounded. The zero value bounds
// nothing. In JSON (the describe output) the fields sit beside the
// attribute's others: "min", "max", "min_exclusive", "max_exclusive".
type Bounds struct {
	Min          *float64 `json:"min,omitempty"`
	Max          *float64 `json:"max,omitempty"`
	MinExclusive bool     `json:"min_exclusive,omitempty"`
	MaxExclusive bool     `json:"max_exclusive,omitempty"`
}

// AtLeast bounds a value below by lo (inclusive).
func AtLeast(lo float64) Bounds { return Bounds{Min: &lo} }

// Above bounds a value below by lo (exclusive: the value must exceed lo).
func Above(lo float64) Bounds { return Bounds{Min: &lo, MinExclusive: true} }

// Between bounds a value to [lo, hi].
func Between(lo, hi float64) Bounds { return Bounds{Min: &lo, Max: &hi} }

// AtMost adds the upper bound hi (inclusive).
func (b Bounds) AtMost(hi float64) Bounds { b.Max, b.MaxExclusive = &hi, false; return b }

// Below adds the upper bound hi (exclusive: the value must be less than hi).
func (b Bounds) Below(hi float64) Bounds { b.Max, b.MaxExclusive = &hi, true; return b }

// IsSet reports whether either side is bounded.
func (b Bounds) IsSet() bool { return b.Min != nil || b.Max != nil }

// Check returns nil when v lies within the bounds, else an error whose text
// completes "steps = 1e+12 " as in "is above the maximum 1000000".
func (b Bounds) Check(v float64) error {
	switch {
	case math.IsNaN(v):
		return fmt.Errorf("is not a number")
	case b.Min != nil && b.MinExclusive && !(v > *b.Min):
		return fmt.Errorf("is not above the minimum %s", FormatNumber(*b.Min))
	case b.Min != nil && !b.MinExclusive && v < *b.Min:
		return fmt.Errorf("is below the minimum %s", FormatNumber(*b.Min))
	case b.Max != nil && b.MaxExclusive && !(v < *b.Max):
		return fmt.Errorf("is not below the maximum %s", FormatNumber(*b.Max))
	case b.Max != nil && !b.MaxExclusive && v > *b.Max:
		return fmt.Errorf("is above the maximum %s", FormatNumber(*b.Max))
	}
	return nil
}

// String writes the bounds as an interval: "[1, 1e+06]", "(0, inf)", "" when
// unbounded.
func (b Bounds) String() string {
	if !b.IsSet() {
		return ""
	}
	lo, hi, open, close := "-inf", "inf", "(", ")"
	if b.Min != nil {
		lo = FormatNumber(*b.Min)
		if !b.MinExclusive {
			open = "["
		}
	}
	if b.Max != nil {
		hi = FormatNumber(*b.Max)
		if !b.MaxExclusive {
			close = "]"
		}
	}
	return open + lo + ", " + hi + close
}

// MaxWhole is the largest magnitude an int attribute may have: every whole
// number up to it is exact in a float64 (and fits an int).
const MaxWhole = 1 << 53

// FormatNumber writes a number the way messages show it: whole numbers below
// ten million in full (1000000), others in Go's shortest form (1e+12, 0.015).
func FormatNumber(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e7 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
