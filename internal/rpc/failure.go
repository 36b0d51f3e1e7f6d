package rpc

import (
	"errors"
	"fmt"
	"time"

	"github.com/ebmflow/ebmflow/internal/pb"
	"google.golang.org/grpc/status"
)

// ErrCrashed reports a plugin process that died during a call.
var ErrCrashed = errors.New("plugin crashed")

// ErrDeadline reports a call that passed its deadline; the plugin was killed.
var ErrDeadline = errors.New("plugin did not answer in time")

// CallFailure is a failed call from a plugin to a linked stage whose
// process died or did not answer in time. It travels in the status details
// of the calling plugin's own answer, so that the host names (and, for a
// deadline, kills) the stage that failed, not the one that called it.
type CallFailure struct {
	Stage   string // the linked stage that failed
	Method  string // e.g. "grad"
	Caller  string // the calling stage
	Crashed bool   // else the deadline passed
	Timeout time.Duration
}

func (e *CallFailure) Error() string {
	if e.Crashed {
		return fmt.Sprintf("stage %q died during %s", e.Stage, e.Method)
	}
	if e.Timeout > 0 {
		return fmt.Sprintf("stage %q: %s did not answer within %s", e.Stage, e.Method, e.Timeout)
	}
	return fmt.Sprintf("stage %q: %s did not answer in time", e.Stage, e.Method)
}

func (e *CallFailure) toPB() *pb.CallFailure {
	r := pb.CallFailure_DEADLINE
	if e.Crashed {
		r = pb.CallFailure_CRASHED
	}
	return &pb.CallFailure{Stage: e.Stage, Method: e.Method, Caller: e.Caller, Reason: r, TimeoutMs: e.Timeout.Milliseconds()}
}

// CallFailureOf returns the CallFailure an error status carries, or nil.
func CallFailureOf(err error) *CallFailure {
	st, ok := status.FromError(err)
	if !ok {
		return nil
	}
	for _, d := range st.Details() {
		if p, ok := d.(*pb.CallFailure); ok && p.Reason != pb.CallFailure_REASON_UNSPECIFIED {
			return &CallFailure{Stage: p.Stage, Method: p.Method, Caller: p.Caller, Crashed: p.Reason == pb.CallFailure_CRASHED,
				Timeout: time.Duration(p.TimeoutMs) * time.Millisecond}
		}
	}
	return nil
}

// linkFailure returns the CallFailure in a link client's failed call: set
// by callChannel when the linked stage's process ended or its deadline
// passed, or by the host's proxy on the gRPC path.
func (c *Client) linkFailure(err error) *CallFailure {
	cf := CallFailureOf(err)
	if cf != nil && cf.Caller == "" {
		cf.Caller = c.caller
	}
	return cf
}
