package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ebmflow/ebmflow/internal/channel"
	"github.com/ebmflow/ebmflow/internal/rpc"
	"github.com/ebmflow/ebmflow/sdk"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrCrashed reports a plugin process that died during a call.
var ErrCrashed = rpc.ErrCrashed

// ErrDeadline reports a call that passed its deadline; the plugin was killed.
var ErrDeadline = rpc.ErrDeadline

// Options configure a Host.
type Options struct {
	// Logger receives the host's and the plugins' log lines.
	Logger zerolog.Logger
	// StartTimeout bounds a plugin's start and handshake; 30 s if zero.
	StartTimeout time.Duration
	// CallTimeout bounds every call to a plugin; no bound if zero. A call
	// past it kills the plugin.
	CallTimeout time.Duration
	// StderrLines is how many stderr lines a crash report quotes; 20 if zero.
	StderrLines int
	// Limit is the largest tensor accepted from a plugin, in bytes.
	Limit int64
	// PluginEnv is added to every plugin's environment (NAME=VALUE), after
	// the host's own.
	PluginEnv []string
}

// Host starts and owns plugin processes.
type Host struct {
	opts Options

	mu     sync.Mutex
	procs  []*Process
	closed bool
}

// New returns a Host.
func New(opts Options) *Host {
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 30 * time.Second
	}
	if opts.StderrLines == 0 {
		opts.StderrLines = 20
	}
	return &Host{opts: opts}
}

// Process is a running plugin serving one stage. Its embedded *rpc.Client
// makes the calls of every kind; errors name the plugin and stage.
type Process struct {
	*rpc.Client
	Stage  string
	Binary Binary
	Info   sdk.Info

	host     *Host
	client   *plugin.Client
	cmd      *exec.Cmd
	stderr   *stderrRelay
	timedOut atomic.Pointer[string]
	timeout  atomic.Int64 // call timeout in nanoseconds; 0: none
}

// SetCallTimeout bounds every later call to the plugin (0: no bound).
func (p *Process) SetCallTimeout(d time.Duration) { p.timeout.Store(int64(d)) }

func (p *Process) callTimeout() time.Duration { return time.Duration(p.timeout.Load()) }

// CallTimeout is the deadline of every call to the plugin (0: none).
func (p *Process) CallTimeout() time.Duration { return p.callTimeout() }

// Start launches bin for stage, completes the handshake and checks that the
// plugin speaks this host's protocol. If bin.SHA256 is set the binary is
// verified against it before it runs.
func (h *Host) Start(ctx context.Context, stage string, bin Binary) (*Process, error) {
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("stage %q: host is shutting down", stage)
	}
	p := &Process{Stage: stage, Binary: bin, host: h}
	p.timeout.Store(int64(h.opts.CallTimeout))
	log := h.opts.Logger.With().Str("plugin", bin.Name).Str("stage", stage).Logger()
	p.stderr = newStderrRelay(log, h.opts.StderrLines)
	p.cmd = exec.Command(bin.Path)
	p.cmd.Env = append(append(os.Environ(), sdk.LogLevelEnv+"="+h.opts.Logger.GetLevel().String()), h.opts.PluginEnv...)
	cfg := &plugin.ClientConfig{
		HandshakeConfig:  rpc.Handshake,
		VersionedPlugins: rpc.PluginSets(nil),
		Cmd:              p.cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true, // p.cmd.Env has it, with PluginEnv after it
		Logger:           hclog.NewNullLogger(),
		Stderr:           p.stderr,
		SyncStderr:       p.stderr,
		SyncStdout:       &stdoutRelay{log: log, tail: p.stderr},
		StartTimeout:     h.opts.StartTimeout,
		GRPCDialOptions:  append(rpc.DialOptions(), p.interceptors()...),
	}
	sc, err := secureConfig(bin)
	if err != nil {
		return nil, fmt.Errorf("plugin %q (stage %q, %s): %w", bin.Name, stage, bin.Path, err)
	}
	cfg.SecureConfig = sc
	p.client = plugin.NewClient(cfg)
	h.mu.Lock()
	h.procs = append(h.procs, p)
	h.mu.Unlock()
	cp, err := p.client.Client()
	if err != nil {
		p.client.Kill()
		return nil, p.startError(err)
	}
	raw, err := cp.Dispense(rpc.PluginKey)
	if err != nil {
		p.client.Kill()
		return nil, p.startError(err)
	}
	p.Client = raw.(*rpc.Client)
	p.Client.Stage = stage
	if h.opts.Limit > 0 {
		p.Client.Limit = h.opts.Limit
	}
	p.Client.Wrap = p.wrap
	p.Client.Log = &log
	p.Client.Pid = p.Pid()
	p.Client.Timeout = p.callTimeout
	info, err := p.Client.Info(ctx)
	if err != nil {
		p.client.Kill()
		return nil, err
	}
	if info.Protocol != sdk.ProtocolVersion {
		p.client.Kill()
		return nil, fmt.Errorf("plugin %q (stage %q, %s): speaks plugin protocol %d, this ebmflow speaks %d; rebuild the plugin against a matching sdk",
			bin.Name, stage, bin.Path, info.Protocol, sdk.ProtocolVersion)
	}
	p.Info = info
	p.openChannel(ctx, log)
	log.Debug().Str("path", bin.Path).Str("version", info.Version).Str("kind", string(info.Kind)).Bool("channel", p.Client.Channel()).Msg("plugin started")
	return p, nil
}

// openChannel gives the host's tensor calls to the plugin a shared-memory
// channel when both sides can; otherwise they stay on gRPC frames.
func (p *Process) openChannel(ctx context.Context, log zerolog.Logger) {
	if !channel.Enabled() {
		return
	}
	ch, err := p.Client.OpenChannel(ctx, os.Getpid(), "")
	var caller *channel.Caller
	if err == nil {
		// The plugin's own pid, not the one it announced: Dial checks
		// that the socket is served by our child.
		caller, err = channel.Dial(ch.Socket, p.Pid(), p.Client.Limit)
	}
	if err != nil {
		log.Debug().Err(err).Msg("no shared-memory channel to this plugin; calls go as gRPC frames")
		return
	}
	p.Client.SetChannel(caller)
}

func (p *Process) startError(err error) error {
	msg := err.Error()
	hint := ""
	switch {
	case strings.Contains(strings.ToLower(msg), "incompatible api version"):
		hint = fmt.Sprintf(" (this ebmflow speaks plugin protocol %d)", sdk.ProtocolVersion)
	case strings.Contains(msg, "checksums did not match"):
		hint = fmt.Sprintf(" (the binary changed after it was checked; expected sha256 %s)", p.Binary.SHA256)
	case strings.Contains(msg, "Unrecognized remote plugin message"), strings.Contains(msg, "plugin exited before we could connect"), strings.Contains(msg, "timeout while waiting for plugin to start"):
		hint = "; is it an ebmflow plugin built with the ebmflow sdk?"
	}
	return fmt.Errorf("plugin %q (stage %q, %s): start: %s%s%s", p.Binary.Name, p.Stage, p.Binary.Path, msg, hint, p.tailText())
}

func (p *Process) tailText() string {
	lines := p.stderr.Tail()
	if len(lines) == 0 {
		return ""
	}
	return "\nlast stderr lines:\n  " + strings.Join(lines, "\n  ")
}

// wrap turns a failed call's error into one naming the plugin and stage:
// a deadline (the plugin has been killed), a crash (with its stderr tail),
// or the plugin's own error.
func (p *Process) wrap(method string, err error) error {
	st, _ := status.FromError(err)
	if st.Code() == codes.DeadlineExceeded && p.callTimeout() > 0 {
		// A channel call has no interceptor: its deadline is found here
		// (for a gRPC call the interceptor has already acted).
		p.deadlinePassed(method)
	}
	if m := p.timedOut.Load(); m != nil {
		return fmt.Errorf("%w: plugin %q (stage %q): %s did not answer within %s; the plugin was killed", ErrDeadline, p.Binary.Name, p.Stage, *m, p.callTimeout())
	}
	if cf := rpc.CallFailureOf(err); cf != nil {
		if q := p.host.process(cf.Stage); q != nil && q != p {
			return q.linkFailed(cf, p.Stage)
		}
	}
	if st.Code() == codes.Unavailable || st.Code() == codes.Canceled && p.exited(500*time.Millisecond) {
		if p.exited(2 * time.Second) {
			return fmt.Errorf("%w: plugin %q (stage %q) died during %s%s%s", ErrCrashed, p.Binary.Name, p.Stage, method, p.exitText(), p.tailText())
		}
	}
	if perr := rpc.PluginError(err); perr != nil {
		return perr // the plugin's own error, its sdk sentinel kept
	}
	if errors.Is(err, context.Canceled) || st.Code() == codes.Canceled {
		return fmt.Errorf("stage %q: %s: %w", p.Stage, method, context.Canceled)
	}
	return fmt.Errorf("plugin %q (stage %q): %s: %w", p.Binary.Name, p.Stage, method, err)
}

// exited waits up to d for the process to exit and reports whether it has.
func (p *Process) exited(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if p.client.Exited() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *Process) exitText() string {
	if ps := p.cmd.ProcessState; ps != nil {
		return " (" + ps.String() + ")"
	}
	return ""
}

// Exited reports whether the plugin process has ended.
func (p *Process) Exited() bool { return p.client.Exited() }

// Pid returns the plugin's process id, or 0 before start.
func (p *Process) Pid() int {
	if p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Stderr returns the last lines the plugin wrote to stderr.
func (p *Process) Stderr() []string { return p.stderr.Tail() }

// Kill stops the plugin: a graceful shutdown, then SIGKILL after 2 s.
func (p *Process) Kill() {
	p.client.Kill()
	if p.Client != nil { // nil when the start failed
		p.Client.CloseChannel()
	}
}

// ebmflowMethods prefixes the gRPC methods of the plugin protocol; go-plugin's
// own services (stdio, broker, controller) get no deadline.
const ebmflowMethods = "/ebmflow.v1."

// interceptors give every call the host's CallTimeout unless the caller set
// an earlier deadline, and kill the plugin when a call passes it.
func (p *Process) interceptors() []grpc.DialOption {
	unary := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if !strings.HasPrefix(method, ebmflowMethods) {
			return invoker(ctx, method, req, reply, cc, opts...)
		}
		ctx, cancel := p.withTimeout(ctx)
		defer cancel()
		err := invoker(ctx, method, req, reply, cc, opts...)
		p.checkDeadline(ctx, method, err)
		return err
	}
	stream := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		if !strings.HasPrefix(method, ebmflowMethods) {
			return streamer(ctx, desc, cc, method, opts...)
		}
		ctx, cancel := p.withTimeout(ctx)
		s, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil {
			cancel()
			p.checkDeadline(ctx, method, err)
			return nil, err
		}
		return &deadlineStream{ClientStream: s, p: p, ctx: ctx, cancel: cancel, method: method}, nil
	}
	return []grpc.DialOption{grpc.WithChainUnaryInterceptor(unary), grpc.WithChainStreamInterceptor(stream)}
}

func (p *Process) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if p.callTimeout() <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, p.callTimeout())
}

func (p *Process) checkDeadline(ctx context.Context, method string, err error) {
	if err == nil || p.callTimeout() <= 0 {
		return
	}
	// The deadline travels with the call: the plugin's side may end the
	// stream with DeadlineExceeded a moment before the host's own timer
	// fires, so the status code decides, not ctx.Err().
	if st, _ := status.FromError(err); st.Code() != codes.DeadlineExceeded && ctx.Err() != context.DeadlineExceeded {
		return
	}
	p.deadlinePassed(rpc.MethodName(method))
}

// deadlinePassed kills the plugin once, for a call that passed its deadline.
func (p *Process) deadlinePassed(call string) {
	if p.timedOut.CompareAndSwap(nil, &call) {
		p.host.opts.Logger.Error().Str("plugin", p.Binary.Name).Str("stage", p.Stage).Str("call", call).
			Str("timeout", p.callTimeout().String()).Msg("plugin call passed its deadline; killing the plugin")
		go p.client.Kill()
	}
}

// linkFailed reports a call that the stage caller made to this plugin
// through a link and that failed with it: the plugin died (it is named,
// with its exit and stderr), or it passed its deadline (it is killed).
func (p *Process) linkFailed(cf *rpc.CallFailure, caller string) error {
	if !cf.Crashed {
		if cf.Timeout == 0 {
			cf.Timeout = p.callTimeout()
		}
		call := cf.Method
		if p.timedOut.CompareAndSwap(nil, &call) {
			p.host.opts.Logger.Error().Str("plugin", p.Binary.Name).Str("stage", p.Stage).Str("call", call).Str("caller", caller).
				Str("timeout", cf.Timeout.String()).Msg("linked call passed its deadline; killing the plugin")
			go p.client.Kill()
		}
		return fmt.Errorf("%w: plugin %q (stage %q): %s, called by stage %q, did not answer within %s; the plugin was killed",
			ErrDeadline, p.Binary.Name, p.Stage, cf.Method, caller, cf.Timeout)
	}
	p.exited(2 * time.Second)
	return fmt.Errorf("%w: plugin %q (stage %q) died during %s, called by stage %q%s%s", ErrCrashed, p.Binary.Name, p.Stage, cf.Method, caller, p.exitText(), p.tailText())
}

type deadlineStream struct {
	grpc.ClientStream
	p      *Process
	ctx    context.Context
	cancel context.CancelFunc
	method string
}

func (s *deadlineStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err != nil {
		s.p.checkDeadline(s.ctx, s.method, err)
		s.cancel()
	}
	return err
}

// process returns the running plugin of stage, or nil.
func (h *Host) process(stage string) *Process {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range h.procs {
		if p.Stage == stage {
			return p
		}
	}
	return nil
}

// Close kills every plugin the host started and waits for them to exit.
func (h *Host) Close() {
	h.mu.Lock()
	h.closed = true
	procs := h.procs
	h.procs = nil
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() { defer wg.Done(); p.Kill() }()
	}
	wg.Wait()
}
