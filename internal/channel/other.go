//go:build !linux

package channel

import (
	"context"
	"time"

	"github.com/ebmflow/ebmflow/internal/wire"
	"github.com/ebmflow/ebmflow/sdk"
)

const supported = false

// Caller is unavailable on this system.
type Caller struct{}

// Dial returns ErrUnsupported here.
func Dial(string, int, int64) (*Caller, error) { return nil, ErrUnsupported }

// Call returns ErrUnsupported here.
func (*Caller) Call(context.Context, time.Time, string, []byte, []wire.Named) (*Answer, error) {
	return nil, ErrUnsupported
}

// CallInto returns ErrUnsupported here.
func (*Caller) CallInto(context.Context, time.Time, string, []byte, []wire.Named, map[string]*sdk.Tensor) (*Answer, error) {
	return nil, ErrUnsupported
}

// CallTo returns ErrUnsupported here.
func (*Caller) CallTo(context.Context, time.Time, string, []byte, []wire.Named, wire.Sink) (*Answer, error) {
	return nil, ErrUnsupported
}

// Dead reports true here.
func (*Caller) Dead() bool { return true }

// Close does nothing here.
func (*Caller) Close() {}

// Listener is unavailable on this system.
type Listener struct{ Name string }

// Listen returns ErrUnsupported here.
func Listen(Options) (*Listener, error) { return nil, ErrUnsupported }

// Close does nothing here.
func (*Listener) Close() {}
