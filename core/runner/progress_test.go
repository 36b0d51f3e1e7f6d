package runner

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// TestTerminalKeepsLinesApart: a log line written while the progress line
// shows goes on a line of its own, and the progress line comes back under
// it; after the run the screen holds the log lines and the last progress
// line, each on its own line.
func TestTerminalKeepsLinesApart(t *testing.T) {
	var screen bytes.Buffer
	term := NewTerminal(&screen)
	log := zerolog.New(zerolog.ConsoleWriter{Out: term, NoColor: true, PartsExclude: []string{zerolog.TimestampFieldName}})
	p := newProgress(term, log, 0, 3)
	p.printEvery = 0
	log.Info().Msg("before")
	p.update(1, Metric{DST: 0.5})
	log.Warn().Msg("plugin said something")
	p.update(2, Metric{DST: 0.25})
	p.update(3, Metric{DST: 0.125})
	p.done()
	log.Info().Msg("after")

	// Render: \r returns to the line start, ESC[K erases the line.
	var lines []string
	cur := ""
	s := screen.String()
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\r':
			cur = ""
		case strings.HasPrefix(s[i:], "\x1b[K"):
			i += 2
		case s[i] == '\n':
			lines = append(lines, cur)
			cur = ""
		default:
			cur += string(s[i])
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	if len(lines) != 4 {
		t.Fatalf("screen has %d lines, want 4: %q", len(lines), lines)
	}
	want := []string{"INF before", "WRN plugin said something", "[########################] 3/3", "INF after"}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want it to start with %q", i, lines[i], w)
		}
	}
}
