package rpc

import (
	"context"
	"errors"

	"github.com/ebmflow/ebmflow/sdk"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The sdk's sentinel errors cross the process boundary as their own gRPC
// status codes, on frame streams and channels alike, and come back as errors
// that wrap the same sentinels: errors.Is(err, sdk.ErrNonFinite) holds in
// the host when a plugin's error wrapped sdk.ErrNonFinite, even through a
// linked stage. A plugin in another language returns these codes.
var sentinelCodes = []struct {
	err  error
	code codes.Code
}{
	{sdk.ErrUnsupported, codes.Unimplemented},
	{sdk.ErrShape, codes.InvalidArgument},
	{sdk.ErrNonFinite, codes.OutOfRange},
}

// codeOf returns the status code a plugin's error crosses the boundary
// with: its sentinel's, the context's, or Unknown.
func codeOf(err error) codes.Code {
	for _, s := range sentinelCodes {
		if errors.Is(err, s.err) {
			return s.code
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	}
	return codes.Unknown
}

// remoteError is a plugin's own error after it crossed the boundary: the
// message the plugin's server gave (naming its stage and call) and the
// sentinel its status code stands for.
type remoteError struct {
	msg      string
	sentinel error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.sentinel }

// PluginError returns the plugin's own error that a failed call's status
// carries, or nil when the call failed for another reason (the process
// died, a deadline passed, the transport broke). Codes of the sdk's
// sentinels come back as errors wrapping them; Unknown as the plain
// message.
func PluginError(err error) error {
	st, ok := status.FromError(err)
	if !ok || st.Code() == codes.Unimplemented {
		return nil // Unimplemented may be gRPC's own: Client.fail says so
	}
	if st.Code() == codes.Unknown {
		return errors.New(st.Message())
	}
	for _, s := range sentinelCodes {
		if s.code == st.Code() {
			return &remoteError{msg: st.Message(), sentinel: s.err}
		}
	}
	return nil
}

// ownError reports whether a status code is one a plugin's server gives
// its own errors (which the host's proxy passes on unchanged), rather than
// one of a failed transport or process.
func ownError(c codes.Code) bool {
	if c == codes.Unknown {
		return true
	}
	for _, s := range sentinelCodes {
		if s.code == c {
			return true
		}
	}
	return false
}
