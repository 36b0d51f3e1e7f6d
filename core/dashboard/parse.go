package dashboard

import (
	"errors"
	"math"
	"strconv"
)

// errSyntax reports a metrics line that is not a JSON object of numbers.
var errSyntax = errors.New("not a JSON object of numbers")

// parseLine reads one metrics.jsonl line, a flat JSON object whose values
// are numbers, null (a non-finite value), other scalars (ignored) or nested
// objects of the same (their keys prefixed with nothing: the runner already
// names extra metrics "stage.name"). It calls set for every number.
// It is a small hand parser because encoding/json with a map is five times
// slower and a long run has hundreds of thousands of lines.
func parseLine(b []byte, set func(name []byte, v float64)) error {
	p := lineParser{b: b}
	p.space()
	if err := p.object(set, true); err != nil {
		return err
	}
	p.space()
	if p.i != len(p.b) {
		return errSyntax
	}
	return nil
}

type lineParser struct {
	b []byte
	i int
}

func (p *lineParser) space() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\r' || p.b[p.i] == '\n') {
		p.i++
	}
}

func (p *lineParser) object(set func([]byte, float64), top bool) error {
	if p.i >= len(p.b) || p.b[p.i] != '{' {
		return errSyntax
	}
	p.i++
	p.space()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return nil
	}
	for {
		p.space()
		key, err := p.str()
		if err != nil {
			return err
		}
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return errSyntax
		}
		p.i++
		p.space()
		if p.i >= len(p.b) {
			return errSyntax
		}
		switch c := p.b[p.i]; {
		case c == '{' && top:
			if err := p.object(set, false); err != nil {
				return err
			}
		case c == '"':
			if _, err := p.str(); err != nil {
				return err
			}
		case c == 'n' || c == 't' || c == 'f':
			word := p.word()
			if string(word) == "null" {
				set(key, math.NaN())
			} else if string(word) != "true" && string(word) != "false" {
				return errSyntax
			}
		default:
			v, err := strconv.ParseFloat(string(p.word()), 64)
			if err != nil {
				return errSyntax
			}
			set(key, v)
		}
		p.space()
		if p.i >= len(p.b) {
			return errSyntax
		}
		if p.b[p.i] == '}' {
			p.i++
			return nil
		}
		if p.b[p.i] != ',' {
			return errSyntax
		}
		p.i++
	}
}

// str reads a string; keys with escapes are returned raw (metric names
// have none).
func (p *lineParser) str() ([]byte, error) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return nil, errSyntax
	}
	start := p.i + 1
	for j := start; j < len(p.b); j++ {
		switch p.b[j] {
		case '\\':
			j++
		case '"':
			p.i = j + 1
			return p.b[start:j], nil
		}
	}
	return nil, errSyntax
}

// word reads up to the next delimiter.
func (p *lineParser) word() []byte {
	start := p.i
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ',', '}', ' ', '\t', '\r', '\n':
			return p.b[start:p.i]
		}
		p.i++
	}
	return p.b[start:p.i]
}
