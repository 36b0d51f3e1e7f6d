package testplugins

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/ebmflow/ebmflow/sdk"
)

var failAttrs = []sdk.Attribute{
	{Name: "fail", Type: sdk.TypeString, Default: "", Enum: []string{"", "panic", "exit", "kill", "hang"}, Doc: "how to misbehave: panic, exit, kill or hang (default: never)"},
	{Name: "fail_method", Type: sdk.TypeString, Default: "", Doc: "the call that misbehaves (default: none)"},
	{Name: "fail_after", Type: sdk.TypeInt, Default: 0, Doc: "successful calls of fail_method before it misbehaves (default 0)"},
	{Name: "log_lines", Type: sdk.TypeInt, Default: 0, Doc: "log lines written at configure: info, then one warn (default 0)"},
	{Name: "stdout_lines", Type: sdk.TypeInt, Default: 0, Doc: "lines printed to stdout (which is reserved) at configure (default 0)"},
	{Name: "delay_ms", Type: sdk.TypeNumber, Default: 0, Doc: "milliseconds every tensor call sleeps, to make timing visible (default 0)"},
}

// faults implements the misbehaviour attributes and records call times.
type faults struct {
	mu     sync.Mutex
	fail   string
	method string
	after  int
	delay  time.Duration
	calls  map[string]int
	spans  map[string][][2]int64
	stage  string
}

// span records the wall-clock interval of one call, for concurrency tests.
func (f *faults) span(method string, start time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.spans == nil {
		f.spans = map[string][][2]int64{}
	}
	f.spans[method] = append(f.spans[method], [2]int64{start.UnixNano(), time.Now().UnixNano()})
}

func (f *faults) configure(cfg *sdk.Config) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail, f.method, f.after = cfg.String("fail"), cfg.String("fail_method"), cfg.Int("fail_after")
	f.delay = time.Duration(cfg.Float("delay_ms") * float64(time.Millisecond))
	f.calls = map[string]int{}
	f.stage = cfg.Stage
	log := sdk.Logger()
	for i := 0; i < cfg.Int("log_lines"); i++ {
		log.Info().Int("line", i).Str("stage", cfg.Stage).Msg("test plugin configured")
	}
	if cfg.Int("log_lines") > 0 {
		log.Warn().Str("stage", cfg.Stage).Msg("test plugin warning")
	}
	for i := 0; i < cfg.Int("stdout_lines"); i++ {
		fmt.Printf("debug print %d\n", i)
	}
}

// enter is called at the start of every call; it misbehaves when told to.
func (f *faults) enter(method string) {
	f.mu.Lock()
	n := f.calls[method]
	if f.calls != nil {
		f.calls[method] = n + 1
	}
	fail, match, delay := f.fail, f.method == method && n >= f.after, f.delay
	f.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	if fail == "" || !match {
		return
	}
	sdk.Logger().Error().Str("method", method).Msg("test plugin: failing in " + method + " with " + fail)
	switch fail {
	case "panic":
		panic("test plugin panics in " + method)
	case "exit":
		os.Exit(7)
	case "kill":
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Hour)
	case "hang":
		select {}
	}
}

type countState struct {
	Calls map[string]int        `json:"calls"`
	Spans map[string][][2]int64 `json:"spans,omitempty"`
}

func (f *faults) save() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, _ := json.Marshal(countState{Calls: f.calls, Spans: f.spans})
	return b
}

func (f *faults) load(b []byte) error {
	var s countState
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	f.mu.Lock()
	f.calls, f.spans = s.Calls, s.Spans
	f.mu.Unlock()
	return nil
}

func withFaults(attrs ...sdk.Attribute) sdk.Schema {
	return sdk.Schema{Attributes: append(attrs, failAttrs...)}
}

// ctxErr returns the context's error, for calls that honour cancellation.
func ctxErr(ctx context.Context) error { return ctx.Err() }
