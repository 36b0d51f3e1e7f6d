package host

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"

	"github.com/rs/zerolog"
)

// stderrRelay receives a plugin's stderr line by line. It keeps the last
// lines for crash reports and relays each line into the host's log: JSON
// lines (zerolog's level/message or hclog's @level/@message) at their own
// level with their fields, other lines at info level as they are.
type stderrRelay struct {
	log  zerolog.Logger
	keep int

	mu      sync.Mutex
	partial []byte
	lines   []string
}

func newStderrRelay(log zerolog.Logger, keep int) *stderrRelay {
	return &stderrRelay{log: log, keep: keep}
}

func (r *stderrRelay) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	eachLine(&r.partial, p, func(line string) {
		r.lines = append(r.lines, line)
		if len(r.lines) > r.keep {
			r.lines = r.lines[len(r.lines)-r.keep:]
		}
		r.relay(line)
	})
	return len(p), nil
}

// eachLine appends p to partial and calls fn with every complete,
// non-empty line (without its line ending), keeping the rest.
func eachLine(partial *[]byte, p []byte, fn func(line string)) {
	*partial = append(*partial, p...)
	for {
		i := bytes.IndexByte(*partial, '\n')
		if i < 0 {
			return
		}
		line := string(bytes.TrimRight((*partial)[:i], "\r"))
		*partial = (*partial)[i+1:]
		if line != "" {
			fn(line)
		}
	}
}

// Tail returns the last lines of stderr, oldest first.
func (r *stderrRelay) Tail() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]string(nil), r.lines...)
	if len(r.partial) > 0 {
		out = append(out, string(r.partial))
	}
	return out
}

func (r *stderrRelay) relay(line string) {
	var m map[string]any
	if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &m) != nil {
		r.log.Info().Str("stderr", line).Msg("plugin output")
		return
	}
	level, msg := zerolog.InfoLevel, ""
	for _, k := range []string{"level", "@level"} {
		if s, ok := m[k].(string); ok {
			if l, err := zerolog.ParseLevel(s); err == nil {
				level = l
			}
			delete(m, k)
		}
	}
	for _, k := range []string{"message", "@message"} {
		if s, ok := m[k].(string); ok {
			msg = s
			delete(m, k)
		}
	}
	// The host's logger already carries the plugin's and stage's names.
	for _, k := range []string{"time", "@timestamp", "@module", "@caller", "plugin", "stage"} {
		delete(m, k)
	}
	ev := r.log.WithLevel(level)
	if ev == nil {
		return
	}
	ev.Fields(m).Msg(msg)
}

// stdoutRelay receives what a plugin writes to its stdout after the
// handshake. Stdout is reserved for the protocol, so the first line is a
// warning naming the plugin (once), and every line is kept for crash
// reports and logged at debug level.
type stdoutRelay struct {
	log  zerolog.Logger
	tail *stderrRelay

	mu      sync.Mutex
	partial []byte
	warned  bool
}

func (r *stdoutRelay) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	eachLine(&r.partial, p, func(line string) {
		r.tail.keepLine("stdout: " + line)
		if !r.warned {
			r.warned = true
			r.log.Warn().Str("stdout", line).Msg("the plugin writes to its stdout, which is reserved for the protocol; it should log to stderr (its stdout lines are logged at debug level)")
			return
		}
		r.log.Debug().Str("stdout", line).Msg("plugin stdout")
	})
	return len(p), nil
}

// keepLine adds a line to the tail kept for crash reports.
func (r *stderrRelay) keepLine(line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, line)
	if len(r.lines) > r.keep {
		r.lines = r.lines[len(r.lines)-r.keep:]
	}
}
