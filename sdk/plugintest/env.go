package plugintest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebmflow/ebmflow/core/host"
	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/rs/zerolog"
)

// stageName is the name the plugin's stage has in every check.
const stageName = "plugintest"

// env holds the built binaries shared by the checks.
type env struct {
	s     Suite
	bin   Built
	links map[string]Built // by linkKey, for every link at any depth
}

func linkKey(l Link) string { return l.Package + "\x00" + l.Name }

func newEnv(t testing.TB, s Suite) (*env, error) {
	if err := s.defaults(); err != nil {
		return nil, err
	}
	e := &env{s: s}
	dir := t.TempDir()
	var err error
	if e.bin, err = build(dir, s.Package, ""); err != nil {
		return nil, err
	}
	e.links = map[string]Built{}
	var buildLinks func(ls []Link, depth int) error
	buildLinks = func(ls []Link, depth int) error {
		if depth > 8 {
			return fmt.Errorf("plugintest: links nested more than 8 deep")
		}
		for _, l := range ls {
			if l.Attribute == "" || l.Package == "" {
				return fmt.Errorf("plugintest: link %+v needs an Attribute and a Package", l)
			}
			if _, done := e.links[linkKey(l)]; !done {
				b, err := build(dir, l.Package, l.Name)
				if err != nil {
					return fmt.Errorf("link %q: %w", l.Attribute, err)
				}
				e.links[linkKey(l)] = b
			}
			if err := buildLinks(l.Links, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := buildLinks(s.Links, 0); err != nil {
		return nil, err
	}
	for _, a := range e.bin.Schema.Attributes {
		if k := a.Type.RefKind(); k != "" && a.Required && e.link(a.Name) < 0 {
			return nil, fmt.Errorf("plugintest: attribute %q references a %s stage and is required: give Suite.Links an entry for it (QuadraticEnergy(%q, nil), say)", a.Name, k, a.Name)
		}
	}
	return e, nil
}

func (e *env) link(attr string) int {
	for i, l := range e.s.Links {
		if l.Attribute == attr {
			return i
		}
	}
	return -1
}

// problems collects what a check found wrong.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

func (p *problems) addErr(err error) {
	if err != nil {
		*p = append(*p, err.Error())
	}
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return errors.New(strings.Join(p, "\n"))
}

// logBuffer is a goroutine-safe sink for the host's log.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(strings.TrimSpace(l.b.String()), "\n")
}

// stage is the plugin under test, configured, with its linked stages.
type stage struct {
	e      *env
	h      *host.Host
	log    *logBuffer
	p      *host.Process
	shapes sdk.Shapes
	diags  sdk.Problems
	runDir string
	closed bool
	// linked are the linked stages' processes in start order, the same
	// for every start of a suite (the state check saves and restores them
	// with the stage, as a checkpoint does).
	linked []*host.Process
}

// start starts the linked stages and the plugin and configures them; values
// is the plugin's configuration. An error problem is not an error here:
// it is in stage.diags.
func (e *env) start(ctx context.Context, t testing.TB, values map[string]any) (*stage, error) {
	log := &logBuffer{}
	st := &stage{e: e, log: log, runDir: t.TempDir(),
		h: host.New(host.Options{Logger: zerolog.New(log).Level(zerolog.InfoLevel), CallTimeout: e.s.CallTimeout})}
	links, up, err := e.startLinks(ctx, st, e.s.Links, "")
	if err != nil {
		st.h.Close()
		return nil, err
	}
	p, err := st.h.Start(ctx, stageName, e.bin.bin)
	if err != nil {
		st.h.Close()
		return nil, err
	}
	st.p = p
	st.shapes, st.diags, err = p.Configure(ctx, rpc.ConfigureArgs{Stage: stageName, Seed: e.s.Seed, RunDir: st.runDir, Values: encode(values), Links: links, Upstream: up})
	if err != nil {
		st.close()
		return nil, fmt.Errorf("configure: %w", err)
	}
	return st, nil
}

// startGood starts the plugin with the suite's good configuration and
// fails if it gives an error problem.
func (e *env) startGood(ctx context.Context, t testing.TB) (*stage, error) {
	st, err := e.start(ctx, t, e.s.Config)
	if err != nil {
		return nil, err
	}
	if st.diags.HasErrors() {
		st.close()
		return nil, fmt.Errorf("configure with Suite.Config: %w", st.diags.Err())
	}
	return st, nil
}

func encode(vals map[string]any) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for k, v := range vals {
		b, err := json.Marshal(v)
		if err != nil {
			panic(fmt.Sprintf("plugintest: attribute %q: %v", k, err))
		}
		out[k] = b
	}
	return out
}

// gracePeriod is how long a plugin may take to exit after the host asks it
// to; go-plugin kills it with SIGKILL after 2 s.
const gracePeriod = 1500 * time.Millisecond

// startLinks starts and configures the stages ls name, each after its own
// links; a nested link's stage is named by its path ("sampler.energy").
func (e *env) startLinks(ctx context.Context, st *stage, ls []Link, prefix string) ([]rpc.Link, map[string]sdk.Shapes, error) {
	var links []rpc.Link
	up := map[string]sdk.Shapes{}
	for _, l := range ls {
		name := prefix + l.Attribute
		sub, subUp, err := e.startLinks(ctx, st, l.Links, name+".")
		if err != nil {
			return nil, nil, err
		}
		lp, err := st.h.Start(ctx, name, e.links[linkKey(l)].bin)
		if err != nil {
			return nil, nil, fmt.Errorf("linked stage %q: %w", name, err)
		}
		st.linked = append(st.linked, lp)
		sh, diags, err := lp.Configure(ctx, rpc.ConfigureArgs{Stage: name, Seed: sdk.DeriveSeed(e.s.Seed, name), RunDir: st.runDir,
			Values: encode(l.Config), Links: sub, Upstream: subUp})
		if err == nil {
			err = diags.Err()
		}
		if err != nil {
			return nil, nil, fmt.Errorf("linked stage %q: configure: %w", name, err)
		}
		links = append(links, rpc.Link{Attribute: l.Attribute, Target: lp.Client, Kind: l.Kind})
		up[l.Attribute] = sh
	}
	return links, up, nil
}

// close shuts the plugin down and then its links, and reports a plugin that
// needed to be killed, died before it was asked to stop, or wrote lines that
// are not log lines (stdout, or raw stderr) during the check.
func (st *stage) close() error {
	if st.closed {
		return nil
	}
	st.closed = true
	var probs problems
	// go-plugin carries the plugin's stdout over a gRPC stream: give the
	// last lines time to arrive.
	time.Sleep(100 * time.Millisecond)
	if st.p.Exited() {
		probs.add("the plugin process had exited before the host asked it to stop; last stderr lines:\n  %s", strings.Join(st.p.Stderr(), "\n  "))
	} else {
		t0 := time.Now()
		st.p.Kill()
		if d := time.Since(t0); d > gracePeriod {
			probs.add("the plugin took %v to exit after the host asked it to stop (over %v): it was killed, not shut down cleanly", d.Round(time.Millisecond), gracePeriod)
		}
		if !st.p.Exited() {
			probs.add("the plugin process is still running after Kill")
		}
	}
	st.h.Close()
	raw := 0
	for _, line := range st.log.lines() {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil || m["plugin"] != st.e.bin.Name || m["stage"] != stageName {
			continue
		}
		line, ok := m["stderr"].(string) // raw stderr
		if !ok || m["message"] != "plugin output" {
			line, ok = m["stdout"].(string) // stdout, warned of once by the host
		}
		if ok {
			if raw++; raw <= 3 {
				probs.add("the plugin wrote %q, which is not a log line: stdout belongs to the handshake and logs go through sdk.Logger()", line)
			}
		}
		if msg, _ := m["message"].(string); strings.HasPrefix(msg, "panic") {
			probs.add("the plugin logged a panic: %s", msg)
		}
	}
	if raw > 3 {
		probs.add("... and %d more such lines", raw-3)
	}
	return probs.err()
}
